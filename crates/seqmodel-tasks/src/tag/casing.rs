//! The casing feature of the PyTorch baseline (`bench/tasks/task2_tagging.py`, `casing`): gives
//! a tagger that lower-cases its words their capitalisation back.

/// Number of casing ids, padding (0) included: the size of the casing embedding table.
pub const CASING_CLASSES: usize = 7;

/// The casing class of a word; [`Casing::id`] is its embedding row (0 is padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Casing {
    /// Letters, every cased one lower-case (`"dog"`, `"e-mail"`).
    Lower,
    /// No letters, at least one digit (`"1984"`, `"3.5"`).
    Numeric,
    /// Neither letters nor digits (`"."`, `"--"`).
    Other,
    /// Every cased letter upper-case (`"NASA"`, `"A"`).
    AllCaps,
    /// First character upper-case, some later one lower-case (`"London"`).
    InitialCap,
    /// Anything else with letters (`"iPhone"`, or letters without case).
    Mixed,
}

impl Casing {
    /// The class of `word`, as Python's `str.islower` / `isupper` / `isalpha` / `isdigit`
    /// decide it in the baseline (Rust's `char` predicates; `is_numeric` stands for `isdigit`).
    pub fn of(word: &str) -> Self {
        let has_alpha = word.chars().any(char::is_alphabetic);
        let cased = || {
            word.chars()
                .filter(|c| c.is_lowercase() || c.is_uppercase())
        };
        let any_cased = cased().next().is_some();
        let is_lower = any_cased && cased().all(char::is_lowercase);
        if is_lower || !has_alpha {
            return if has_alpha {
                Self::Lower
            } else if word.chars().any(char::is_numeric) {
                Self::Numeric
            } else {
                Self::Other
            };
        }
        if any_cased && cased().all(char::is_uppercase) {
            return Self::AllCaps;
        }
        if word.chars().next().is_some_and(char::is_uppercase) {
            return Self::InitialCap;
        }
        Self::Mixed
    }

    /// The embedding row, `1..CASING_CLASSES` (the baseline's numbering; 0 is padding).
    pub fn id(self) -> usize {
        match self {
            Self::Lower => 1,
            Self::Numeric => 2,
            Self::Other => 3,
            Self::AllCaps => 4,
            Self::InitialCap => 5,
            Self::Mixed => 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of the baseline's `casing(w)` for these words, worked out from its branches.
    #[test]
    fn matches_the_baseline_function() {
        let cases = [
            ("dog", 1),
            ("e-mail", 1),
            ("1984", 2),
            ("3.5", 2),
            (".", 3),
            ("--", 3),
            ("NASA", 4),
            ("A", 4),
            ("U.S.", 4),
            ("London", 5),
            ("McDonald", 5),
            ("iPhone", 6),
            ("日本", 6),
        ];
        for (word, id) in cases {
            assert_eq!(Casing::of(word).id(), id, "{word}");
        }
        assert!((1..CASING_CLASSES).contains(&Casing::Mixed.id()));
    }
}
