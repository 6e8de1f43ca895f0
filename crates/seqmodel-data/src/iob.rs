//! IOB2 tags (`O`, `B-TYPE`, `I-TYPE`): validation and entity spans.
//!
//! In IOB2 every entity starts with `B-TYPE`; `I-TYPE` may only follow `B-TYPE` or `I-TYPE` of
//! the same type. Invalid sequences are reported, never repaired.

use serde::Serialize;

/// One tag parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IobTag<'a> {
    /// Outside any entity.
    Outside,
    /// First token of an entity of this type.
    Begin(&'a str),
    /// Continuation of an entity of this type.
    Inside(&'a str),
}

impl<'a> IobTag<'a> {
    /// Parses `O`, `B-TYPE` or `I-TYPE` (with a non-empty type); anything else is `None`.
    pub fn parse(tag: &'a str) -> Option<Self> {
        if tag == "O" {
            return Some(Self::Outside);
        }
        let (prefix, entity) = tag.split_once('-')?;
        if entity.is_empty() {
            return None;
        }
        match prefix {
            "B" => Some(Self::Begin(entity)),
            "I" => Some(Self::Inside(entity)),
            _ => None,
        }
    }
}

/// What is wrong with one tag of a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IobViolation {
    /// The tag is not `O`, `B-TYPE` or `I-TYPE`.
    Malformed {
        /// Position in the sequence.
        index: usize,
        /// The tag.
        tag: String,
    },
    /// `I-TYPE` that does not continue an entity of the same type.
    Transition {
        /// Position in the sequence.
        index: usize,
        /// The tag before (`O` at the start).
        previous: String,
        /// The tag.
        tag: String,
        /// Its entity type.
        entity: String,
    },
}

impl IobViolation {
    /// Position of the offending tag.
    pub fn index(&self) -> usize {
        match self {
            Self::Malformed { index, .. } | Self::Transition { index, .. } => *index,
        }
    }
}

/// Every violation of IOB2 in `tags` (empty when the sequence is valid).
///
/// ```
/// use seqmodel_data::{iob2_violations, IobViolation};
///
/// assert!(iob2_violations(&["B-PER", "I-PER", "O"]).is_empty());
/// let v = iob2_violations(&["O", "I-LOC"]);
/// assert!(matches!(&v[0], IobViolation::Transition { index: 1, .. }));
/// ```
pub fn iob2_violations<S: AsRef<str>>(tags: &[S]) -> Vec<IobViolation> {
    let mut violations = Vec::new();
    let mut previous: Option<IobTag<'_>> = Some(IobTag::Outside);
    let mut previous_text = "O";
    for (index, tag) in tags.iter().enumerate() {
        let text = tag.as_ref();
        let parsed = IobTag::parse(text);
        match parsed {
            None => violations.push(IobViolation::Malformed {
                index,
                tag: text.to_string(),
            }),
            Some(IobTag::Inside(entity)) => {
                let continues = matches!(
                    previous,
                    Some(IobTag::Begin(p)) | Some(IobTag::Inside(p)) if p == entity
                );
                if !continues {
                    violations.push(IobViolation::Transition {
                        index,
                        previous: previous_text.to_string(),
                        tag: text.to_string(),
                        entity: entity.to_string(),
                    });
                }
            }
            Some(_) => {}
        }
        previous = parsed;
        previous_text = text;
    }
    violations
}

/// An entity: tokens `start..end` of type `label`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntitySpan {
    /// Entity type (`PER`, `LOC`, …).
    pub label: String,
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
}

/// The entities of an IOB2 sequence. An `I-` tag that does not continue an entity starts a new
/// one (as `conlleval` does), so invalid input still gives spans; check validity with
/// [`iob2_violations`].
pub fn iob2_entities<S: AsRef<str>>(tags: &[S]) -> Vec<EntitySpan> {
    let mut spans: Vec<EntitySpan> = Vec::new();
    let mut open: Option<usize> = None; // index into spans of the entity still running
    for (i, tag) in tags.iter().enumerate() {
        match IobTag::parse(tag.as_ref()) {
            Some(IobTag::Begin(entity)) => {
                spans.push(EntitySpan {
                    label: entity.to_string(),
                    start: i,
                    end: i + 1,
                });
                open = Some(spans.len() - 1);
            }
            Some(IobTag::Inside(entity)) => match open {
                Some(k) if spans[k].label == entity => spans[k].end = i + 1,
                _ => {
                    spans.push(EntitySpan {
                        label: entity.to_string(),
                        start: i,
                        end: i + 1,
                    });
                    open = Some(spans.len() - 1);
                }
            },
            Some(IobTag::Outside) | None => open = None,
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_by_hand() {
        let tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"];
        let spans = iob2_entities(&tags);
        let got: Vec<(&str, usize, usize)> = spans
            .iter()
            .map(|s| (s.label.as_str(), s.start, s.end))
            .collect();
        assert_eq!(got, vec![("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 6)]);
    }

    #[test]
    fn type_change_and_malformed_tags_are_violations() {
        let v = iob2_violations(&["B-PER", "I-LOC", "X-PER", "B-"]);
        assert_eq!(v.len(), 3);
        assert!(
            matches!(&v[0], IobViolation::Transition { index: 1, previous, .. } if previous == "B-PER")
        );
        assert_eq!(v[1].index(), 2);
        assert_eq!(v[2].index(), 3);
    }

    #[test]
    fn orphan_inside_starts_a_span() {
        assert_eq!(iob2_entities(&["O", "I-ORG", "I-ORG"]).len(), 1);
    }
}
