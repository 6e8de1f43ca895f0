//! The Porter stemmer (Porter, 1980) as NLTK 3.x implements it in its default
//! `NLTK_EXTENSIONS` mode, which is what `rouge-score` uses.
//!
//! It is **not** Porter2/Snowball: `generously → gener`, `dying → die`, `quickly → quickli`.
//! NLTK's extensions over the paper: a table of irregular forms (`dying → die`, `skies → sky`,
//! ...), words of at most two letters are left alone, `-ies`/`-ied` on four-letter words become
//! `-ie`, `-ied` otherwise becomes `-i`, `y → i` only after a consonant that is not the first
//! letter, `-alli → -al` is applied repeatedly, `-bli → -ble` (not `-abli → -able`), and
//! `-fulli → -ful`, `-logi → -log` in step 2; `*o` also holds for two-letter stems
//! vowel + consonant.

const VOWELS: [char; 5] = ['a', 'e', 'i', 'o', 'u'];

fn is_vowel_letter(c: char) -> bool {
    VOWELS.contains(&c)
}

/// The paper's consonant test, with `y` a consonant unless it follows a consonant.
fn is_consonant(w: &[char], i: usize) -> bool {
    if is_vowel_letter(w[i]) {
        return false;
    }
    if w[i] == 'y' {
        let mut negate = false;
        let mut i = i;
        while i > 0 && w[i] == 'y' {
            negate = !negate;
            i -= 1;
        }
        // consonant iff (the first non-`y` letter is a consonant) XOR (odd run of `y`s)
        return is_vowel_letter(w[i]) == negate;
    }
    true
}

/// `m` in `[C](VC){m}[V]`.
fn measure(stem: &[char]) -> usize {
    let flags: Vec<bool> = (0..stem.len()).map(|i| is_consonant(stem, i)).collect();
    flags.windows(2).filter(|w| !w[0] && w[1]).count()
}

fn contains_vowel(stem: &[char]) -> bool {
    (0..stem.len()).any(|i| !is_consonant(stem, i))
}

fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1)
}

/// Condition `*o`: the stem ends consonant-vowel-consonant, the last not `w`, `x` or `y`
/// (NLTK also accepts a two-letter stem vowel + consonant).
fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    (n >= 3
        && is_consonant(w, n - 3)
        && !is_consonant(w, n - 2)
        && is_consonant(w, n - 1)
        && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1))
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let n = suffix.chars().count();
    w.len() >= n && w[w.len() - n..].iter().copied().eq(suffix.chars())
}

fn strip(w: &[char], suffix: &str) -> Vec<char> {
    w[..w.len() - suffix.chars().count()].to_vec()
}

fn with(mut stem: Vec<char>, replacement: &str) -> Vec<char> {
    stem.extend(replacement.chars());
    stem
}

/// A suffix rule: `(suffix, replacement, condition on the stem)`.
type Rule<'a> = (&'a str, &'a str, &'a dyn Fn(&[char]) -> bool);

/// NLTK's `_apply_rule_list`: the first rule whose suffix matches decides; if its condition
/// fails the word is returned unchanged.
fn apply_rules(w: Vec<char>, rules: &[Rule<'_>]) -> Vec<char> {
    for (suffix, replacement, condition) in rules {
        if ends_with(&w, suffix) {
            let stem = strip(&w, suffix);
            return if condition(&stem) {
                with(stem, replacement)
            } else {
                w
            };
        }
    }
    w
}

fn always(_: &[char]) -> bool {
    true
}

fn m_gt0(stem: &[char]) -> bool {
    measure(stem) > 0
}

fn m_gt1(stem: &[char]) -> bool {
    measure(stem) > 1
}

fn step1a(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ies") && w.len() == 4 {
        return with(strip(&w, "ies"), "ie");
    }
    apply_rules(
        w,
        &[
            ("sses", "ss", &always),
            ("ies", "i", &always),
            ("ss", "ss", &always),
            ("s", "", &always),
        ],
    )
}

fn step1b(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ied") {
        let replacement = if w.len() == 4 { "ie" } else { "i" };
        return with(strip(&w, "ied"), replacement);
    }
    if ends_with(&w, "eed") {
        let stem = strip(&w, "eed");
        return if measure(&stem) > 0 {
            with(stem, "ee")
        } else {
            w
        };
    }
    let mut intermediate = None;
    for suffix in ["ed", "ing"] {
        if ends_with(&w, suffix) {
            let stem = strip(&w, suffix);
            if contains_vowel(&stem) {
                intermediate = Some(stem);
                break;
            }
        }
    }
    let Some(stem) = intermediate else {
        return w;
    };
    for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] {
        if ends_with(&stem, suffix) {
            return with(strip(&stem, suffix), replacement);
        }
    }
    if ends_double_consonant(&stem) {
        let last = stem[stem.len() - 1];
        return if matches!(last, 'l' | 's' | 'z') {
            stem
        } else {
            stem[..stem.len() - 1].to_vec()
        };
    }
    if measure(&stem) == 1 && ends_cvc(&stem) {
        with(stem, "e")
    } else {
        stem
    }
}

fn step1c(w: Vec<char>) -> Vec<char> {
    let cond = |stem: &[char]| stem.len() > 1 && is_consonant(stem, stem.len() - 1);
    apply_rules(w, &[("y", "i", &cond)])
}

fn step2(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "alli") && m_gt0(&strip(&w, "alli")) {
        return step2(with(strip(&w, "alli"), "al"));
    }
    let word = w.clone();
    let logi = move |_: &[char]| m_gt0(&word[..word.len() - 3]);
    apply_rules(
        w,
        &[
            ("ational", "ate", &m_gt0),
            ("tional", "tion", &m_gt0),
            ("enci", "ence", &m_gt0),
            ("anci", "ance", &m_gt0),
            ("izer", "ize", &m_gt0),
            ("bli", "ble", &m_gt0),
            ("alli", "al", &m_gt0),
            ("entli", "ent", &m_gt0),
            ("eli", "e", &m_gt0),
            ("ousli", "ous", &m_gt0),
            ("ization", "ize", &m_gt0),
            ("ation", "ate", &m_gt0),
            ("ator", "ate", &m_gt0),
            ("alism", "al", &m_gt0),
            ("iveness", "ive", &m_gt0),
            ("fulness", "ful", &m_gt0),
            ("ousness", "ous", &m_gt0),
            ("aliti", "al", &m_gt0),
            ("iviti", "ive", &m_gt0),
            ("biliti", "ble", &m_gt0),
            ("fulli", "ful", &m_gt0),
            ("logi", "log", &logi),
        ],
    )
}

fn step3(w: Vec<char>) -> Vec<char> {
    apply_rules(
        w,
        &[
            ("icate", "ic", &m_gt0),
            ("ative", "", &m_gt0),
            ("alize", "al", &m_gt0),
            ("iciti", "ic", &m_gt0),
            ("ical", "ic", &m_gt0),
            ("ful", "", &m_gt0),
            ("ness", "", &m_gt0),
        ],
    )
}

fn step4(w: Vec<char>) -> Vec<char> {
    let ion = |stem: &[char]| m_gt1(stem) && matches!(stem.last(), Some('s' | 't'));
    apply_rules(
        w,
        &[
            ("al", "", &m_gt1),
            ("ance", "", &m_gt1),
            ("ence", "", &m_gt1),
            ("er", "", &m_gt1),
            ("ic", "", &m_gt1),
            ("able", "", &m_gt1),
            ("ible", "", &m_gt1),
            ("ant", "", &m_gt1),
            ("ement", "", &m_gt1),
            ("ment", "", &m_gt1),
            ("ent", "", &m_gt1),
            ("ion", "", &ion),
            ("ou", "", &m_gt1),
            ("ism", "", &m_gt1),
            ("ate", "", &m_gt1),
            ("iti", "", &m_gt1),
            ("ous", "", &m_gt1),
            ("ive", "", &m_gt1),
            ("ize", "", &m_gt1),
        ],
    )
}

fn step5a(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "e") {
        let stem = strip(&w, "e");
        let m = measure(&stem);
        if m > 1 || (m == 1 && !ends_cvc(&stem)) {
            return stem;
        }
    }
    w
}

fn step5b(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ll") && measure(&w[..w.len() - 1]) > 1 {
        return w[..w.len() - 1].to_vec();
    }
    w
}

/// NLTK's irregular forms (`NLTK_EXTENSIONS` mode).
fn irregular(word: &str) -> Option<&'static str> {
    Some(match word {
        "sky" | "skies" => "sky",
        "dying" => "die",
        "lying" => "lie",
        "tying" => "tie",
        "news" => "news",
        "innings" | "inning" => "inning",
        "outings" | "outing" => "outing",
        "cannings" | "canning" => "canning",
        "howe" => "howe",
        "proceed" => "proceed",
        "exceed" => "exceed",
        "succeed" => "succeed",
        _ => return None,
    })
}

/// Stems one word as NLTK's `PorterStemmer().stem(word)` (lower-cases first), e.g.
/// `generously` → `gener`, `dying` → `die`, `quickly` → `quickli`.
pub(crate) fn porter_stem(word: &str) -> String {
    let lower = crate::pytext::py_lower(word);
    if let Some(irr) = irregular(&lower) {
        return irr.to_string();
    }
    if word.chars().count() <= 2 {
        return lower;
    }
    let mut w: Vec<char> = lower.chars().collect();
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    w.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs produced by nltk 3.10.4 `PorterStemmer().stem(w)`; they exercise every step and
    /// each NLTK extension.
    #[test]
    fn matches_nltk() {
        let cases = [
            ("generously", "gener"),
            ("dying", "die"),
            ("quickly", "quickli"),
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("bled", "bled"),
            ("motoring", "motor"),
            ("sing", "sing"),
            ("conflated", "conflat"),
            ("troubled", "troubl"),
            ("sized", "size"),
            ("hopping", "hop"),
            ("tanned", "tan"),
            ("falling", "fall"),
            ("hissing", "hiss"),
            ("fizzed", "fizz"),
            ("failing", "fail"),
            ("filing", "file"),
            ("happy", "happi"),
            ("sky", "sky"),
            ("relational", "relat"),
            ("conditional", "condit"),
            ("rational", "ration"),
            ("valenci", "valenc"),
            ("digitizer", "digit"),
            ("conformabli", "conform"),
            ("radicalli", "radic"),
            ("differentli", "differ"),
            ("vileli", "vile"),
            ("analogousli", "analog"),
            ("vietnamization", "vietnam"),
            ("predication", "predic"),
            ("operator", "oper"),
            ("feudalism", "feudal"),
            ("decisiveness", "decis"),
            ("hopefulness", "hope"),
            ("callousness", "callous"),
            ("formaliti", "formal"),
            ("sensitiviti", "sensit"),
            ("sensibiliti", "sensibl"),
            ("triplicate", "triplic"),
            ("formative", "form"),
            ("formalize", "formal"),
            ("electriciti", "electr"),
            ("electrical", "electr"),
            ("hopeful", "hope"),
            ("goodness", "good"),
            ("revival", "reviv"),
            ("allowance", "allow"),
            ("inference", "infer"),
            ("airliner", "airlin"),
            ("gyroscopic", "gyroscop"),
            ("adjustable", "adjust"),
            ("defensible", "defens"),
            ("irritant", "irrit"),
            ("replacement", "replac"),
            ("adjustment", "adjust"),
            ("dependent", "depend"),
            ("adoption", "adopt"),
            ("homologou", "homolog"),
            ("communism", "commun"),
            ("activate", "activ"),
            ("angulariti", "angular"),
            ("homologous", "homolog"),
            ("effective", "effect"),
            ("bowdlerize", "bowdler"),
            ("probate", "probat"),
            ("rate", "rate"),
            ("cease", "ceas"),
            ("controll", "control"),
            ("roll", "roll"),
            ("generously", "gener"),
            ("dying", "die"),
            ("lying", "lie"),
            ("organization", "organ"),
            ("quickly", "quickli"),
            ("skies", "sky"),
            ("cried", "cri"),
            ("died", "die"),
            ("spies", "spi"),
            ("enjoy", "enjoy"),
            ("fly", "fli"),
            ("by", "by"),
            ("happily", "happili"),
            ("archaeology", "archaeolog"),
            ("hopefully", "hope"),
            ("innings", "inning"),
            ("yyyy", "yyyi"),
            ("syzygy", "syzygi"),
        ];
        for (word, stem) in cases {
            assert_eq!(porter_stem(word), stem, "stem of {word:?}");
        }
    }
}
