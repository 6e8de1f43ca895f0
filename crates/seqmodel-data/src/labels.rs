//! Class and tag names ↔ ids (no special entries: ids are `0..len`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An ordered set of label names; a name's id is its position.
///
/// ```
/// use seqmodel_data::LabelSet;
///
/// let labels = LabelSet::sorted(["pos", "neg", "pos"]);
/// assert_eq!(labels.names(), ["neg", "pos"]);
/// assert_eq!(labels.id("pos")?, 1);
/// assert!(labels.id("neutral").is_err());
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSet {
    names: Vec<String>,
}

impl LabelSet {
    /// Labels in the given order; a repeated name is a configuration error.
    pub fn new<I, S>(names: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(Error::Config {
                    config: "LabelSet::new",
                    field: "labels",
                    reason: format!("label \"{name}\" is given twice"),
                });
            }
        }
        Ok(Self { names })
    }

    /// The distinct names, sorted (so ids do not depend on the order of the data).
    pub fn sorted<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut names: Vec<String> = names.into_iter().map(|s| s.as_ref().to_string()).collect();
        names.sort();
        names.dedup();
        Self { names }
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The id of `name`.
    pub fn id(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::UnknownLabel {
                label: name.to_string(),
                known: self.names.clone(),
            })
    }

    /// The name with id `id`.
    pub fn name(&self, id: usize) -> Result<&str> {
        self.names
            .get(id)
            .map(String::as_str)
            .ok_or(Error::IdOutOfRange {
                id,
                len: self.names.len(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_rejected_and_ids_round_trip() {
        assert!(LabelSet::new(["a", "a"]).is_err());
        let labels = LabelSet::new(["x", "y"]).unwrap();
        assert_eq!(labels.name(labels.id("y").unwrap()).unwrap(), "y");
        assert!(labels.name(2).is_err());
    }
}
