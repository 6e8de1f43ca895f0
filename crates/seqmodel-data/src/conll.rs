//! CoNLL-style token-per-line files: CoNLL-U (choose the tag column) and plain column files such
//! as two-column CoNLL or the IOB2 files of Universal NER. Tokens and tags stay aligned.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result, excerpt};
use crate::iob::{IobViolation, iob2_violations};
use crate::source::{numbered_lines, read_bytes, text_of};

/// A sentence with one tag per token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedSentence {
    /// The tokens.
    pub tokens: Vec<String>,
    /// One tag per token.
    pub tags: Vec<String>,
}

impl TaggedSentence {
    /// Pairs tokens with tags; different counts are an [`Error::TokenTagMismatch`].
    pub fn new(tokens: Vec<String>, tags: Vec<String>) -> Result<Self> {
        if tokens.len() != tags.len() {
            return Err(Error::TokenTagMismatch {
                at: Location::line("<input>", 1),
                sentence_line: 1,
                tokens: tokens.len(),
                tags: tags.len(),
            });
        }
        Ok(Self { tokens, tags })
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the sentence has no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// The CoNLL-U column used as the tag (the token is always `FORM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConlluColumn {
    /// Column 3, the lemma.
    Lemma,
    /// Column 4, universal part of speech.
    Upos,
    /// Column 5, language-specific part of speech.
    Xpos,
    /// Column 6, morphological features.
    Feats,
    /// Column 7, head index.
    Head,
    /// Column 8, dependency relation.
    Deprel,
    /// Column 9, enhanced dependencies.
    Deps,
    /// Column 10, miscellaneous.
    Misc,
}

impl ConlluColumn {
    /// 0-based field index.
    pub fn index(self) -> usize {
        match self {
            Self::Lemma => 2,
            Self::Upos => 3,
            Self::Xpos => 4,
            Self::Feats => 5,
            Self::Head => 6,
            Self::Deprel => 7,
            Self::Deps => 8,
            Self::Misc => 9,
        }
    }
}

/// Reads a CoNLL-U file: one sentence per block, words only (multiword-token ranges such as
/// `3-4` and empty nodes such as `8.1` are skipped), tags from `column`.
pub fn read_conllu(path: impl AsRef<Path>, column: ConlluColumn) -> Result<Vec<TaggedSentence>> {
    let path = path.as_ref();
    parse_conllu(&read_bytes(path)?, path, column)
}

/// [`read_conllu`] on bytes; `path` names the source in errors.
///
/// ```
/// use std::path::Path;
/// use seqmodel_data::{parse_conllu, ConlluColumn};
///
/// let text = "# text = Hi there\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n2\tthere\tthere\tADV\tRB\t_\t1\tadvmod\t_\t_\n\n";
/// let sentences = parse_conllu(text.as_bytes(), Path::new("x.conllu"), ConlluColumn::Upos)?;
/// assert_eq!(sentences[0].tokens, ["Hi", "there"]);
/// assert_eq!(sentences[0].tags, ["INTJ", "ADV"]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
pub fn parse_conllu(
    bytes: &[u8],
    path: &Path,
    column: ConlluColumn,
) -> Result<Vec<TaggedSentence>> {
    let text = text_of(bytes, path, "CoNLL-U sentences")?;
    let mut sentences = Vec::new();
    let mut current = TaggedSentence {
        tokens: Vec::new(),
        tags: Vec::new(),
    };
    for (line_no, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                sentences.push(std::mem::replace(
                    &mut current,
                    TaggedSentence {
                        tokens: Vec::new(),
                        tags: Vec::new(),
                    },
                ));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 10 {
            return Err(Error::ColumnCount {
                at: Location::line(path, line_no),
                expected: 10,
                found: fields.len(),
            });
        }
        let id = fields[0];
        let is_range = id
            .split_once('-')
            .is_some_and(|(a, b)| is_number(a) && is_number(b));
        let is_empty_node = id
            .split_once('.')
            .is_some_and(|(a, b)| is_number(a) && is_number(b));
        if is_range || is_empty_node {
            continue;
        }
        let expected_id = current.tokens.len() + 1;
        if id.parse::<usize>().ok() != Some(expected_id) {
            return Err(Error::Malformed {
                at: Location::at(path, line_no, 1),
                expected: format!("word ID {expected_id} (or a range a-b, or an empty node a.b)"),
                found: excerpt(id),
            });
        }
        let form = fields[1];
        let tag = fields[column.index()];
        if form.is_empty() {
            return Err(Error::Malformed {
                at: Location::at(path, line_no, 2),
                expected: "a word form".into(),
                found: String::new(),
            });
        }
        if tag.is_empty() {
            return Err(Error::Malformed {
                at: Location::at(path, line_no, column.index() + 1),
                expected: "a tag (\"_\" when unspecified)".into(),
                found: String::new(),
            });
        }
        current.tokens.push(form.to_string());
        current.tags.push(tag.to_string());
    }
    if !current.is_empty() {
        sentences.push(current);
    }
    if sentences.is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            expected: "CoNLL-U sentences".into(),
        });
    }
    Ok(sentences)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// How fields are separated in a column file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnSeparator {
    /// Exactly one tab between fields (tokens may contain spaces).
    Tab,
    /// Runs of whitespace.
    Whitespace,
}

/// Which tag scheme to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TagScheme {
    /// Any tag (parts of speech, chunks without checks).
    Plain,
    /// IOB2: an invalid tag or transition is an [`Error::InvalidIob`] / [`Error::Malformed`].
    Iob2,
}

/// The layout of a token-per-line column file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnFormat {
    /// 0-based field holding the token.
    pub token_column: usize,
    /// 0-based field holding the tag.
    pub tag_column: usize,
    /// Field separator.
    pub separator: ColumnSeparator,
    /// Tag checks.
    pub scheme: TagScheme,
}

impl ColumnFormat {
    /// Two-column CoNLL: `token tag`, whitespace-separated, IOB2 tags.
    pub fn two_column_iob2() -> Self {
        Self {
            token_column: 0,
            tag_column: 1,
            separator: ColumnSeparator::Whitespace,
            scheme: TagScheme::Iob2,
        }
    }

    /// Universal NER `.iob2` files: `index token tag - annotator`, tab-separated, IOB2.
    pub fn universal_ner() -> Self {
        Self {
            token_column: 1,
            tag_column: 2,
            separator: ColumnSeparator::Tab,
            scheme: TagScheme::Iob2,
        }
    }
}

/// Reads a token-per-line column file (blank lines end sentences; `#` lines before a
/// sentence's first token are comments; `-DOCSTART-` lines are skipped).
pub fn read_columns(path: impl AsRef<Path>, format: ColumnFormat) -> Result<Vec<TaggedSentence>> {
    let path = path.as_ref();
    parse_columns(&read_bytes(path)?, path, format)
}

/// [`read_columns`] on bytes; `path` names the source in errors.
///
/// ```
/// use std::path::Path;
/// use seqmodel_data::{parse_columns, ColumnFormat, Error};
///
/// let ok = b"John B-PER\nlives O\nin O\nNew B-LOC\nYork I-LOC\n\n";
/// let sentences = parse_columns(ok, Path::new("a.txt"), ColumnFormat::two_column_iob2())?;
/// assert_eq!(sentences[0].tags[4], "I-LOC");
///
/// let bad = b"in O\nYork I-LOC\n";
/// let err = parse_columns(bad, Path::new("b.txt"), ColumnFormat::two_column_iob2()).unwrap_err();
/// assert!(matches!(err, Error::InvalidIob { .. }));
/// assert!(err.to_string().starts_with("b.txt:2:"));
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
pub fn parse_columns(
    bytes: &[u8],
    path: &Path,
    format: ColumnFormat,
) -> Result<Vec<TaggedSentence>> {
    let text = text_of(bytes, path, "token-per-line sentences")?;
    let mut sentences = Vec::new();
    let mut block = Block::default();
    for (line_no, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            block.finish(path, format, &mut sentences)?;
            continue;
        }
        if block.lines.is_empty() && line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = match format.separator {
            ColumnSeparator::Tab => line.split('\t').collect(),
            ColumnSeparator::Whitespace => line.split_whitespace().collect(),
        };
        if fields.first() == Some(&"-DOCSTART-") {
            continue;
        }
        if fields.len() <= format.token_column {
            return Err(Error::ColumnCount {
                at: Location::line(path, line_no),
                expected: format.token_column.max(format.tag_column) + 1,
                found: fields.len(),
            });
        }
        let token = fields[format.token_column];
        if token.is_empty() {
            return Err(Error::Malformed {
                at: Location::at(path, line_no, format.token_column + 1),
                expected: "a token".into(),
                found: String::new(),
            });
        }
        let tag = fields
            .get(format.tag_column)
            .filter(|t| !t.is_empty())
            .map(|t| t.to_string());
        block.lines.push(line_no);
        block.tokens.push(token.to_string());
        block.tags.push(tag);
    }
    block.finish(path, format, &mut sentences)?;
    if sentences.is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            expected: "token-per-line sentences".into(),
        });
    }
    Ok(sentences)
}

/// A sentence being read: tokens, tags (a missing tag is `None`) and their lines.
#[derive(Default)]
struct Block {
    lines: Vec<usize>,
    tokens: Vec<String>,
    tags: Vec<Option<String>>,
}

impl Block {
    fn finish(
        &mut self,
        path: &Path,
        format: ColumnFormat,
        out: &mut Vec<TaggedSentence>,
    ) -> Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let block = std::mem::take(self);
        let tags_present = block.tags.iter().filter(|t| t.is_some()).count();
        if let Some(k) = block.tags.iter().position(Option::is_none) {
            return Err(Error::TokenTagMismatch {
                at: Location::line(path, block.lines[k]),
                sentence_line: block.lines[0],
                tokens: block.tokens.len(),
                tags: tags_present,
            });
        }
        let tags: Vec<String> = block.tags.into_iter().flatten().collect();
        if format.scheme == TagScheme::Iob2
            && let Some(violation) = iob2_violations(&tags).into_iter().next()
        {
            let column = format.tag_column + 1;
            return Err(match violation {
                IobViolation::Malformed { index, tag } => Error::Malformed {
                    at: Location::at(path, block.lines[index], column),
                    expected: "an IOB2 tag (O, B-TYPE or I-TYPE)".into(),
                    found: excerpt(&tag),
                },
                IobViolation::Transition {
                    index,
                    previous,
                    tag,
                    entity,
                } => Error::InvalidIob {
                    at: Location::at(path, block.lines[index], column),
                    previous,
                    tag,
                    entity,
                },
            });
        }
        out.push(TaggedSentence {
            tokens: block.tokens,
            tags,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONLLU: &str = "# sent_id = 1\n# text = I'm here.\n1-2\tI'm\t_\t_\t_\t_\t_\t_\t_\t_\n1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n2\t'm\tbe\tAUX\tVBP\t_\t3\tcop\t_\t_\n2.1\tx\tx\tX\tX\t_\t_\t_\t_\t_\n3\there\there\tADV\tRB\t_\t0\troot\t_\t_\n4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_\n\n1\tOk\tok\tINTJ\tUH\t_\t0\troot\t_\t_\n";

    #[test]
    fn conllu_skips_ranges_and_empty_nodes_and_picks_the_column() {
        let s = parse_conllu(CONLLU.as_bytes(), Path::new("c"), ConlluColumn::Xpos).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["I", "'m", "here", "."]);
        assert_eq!(s[0].tags, ["PRP", "VBP", "RB", "."]);
        assert_eq!(s[1].tags, ["UH"]);
    }

    #[test]
    fn conllu_errors_name_the_line() {
        let short = "1\tI\tI\tPRON\n";
        let err = parse_conllu(short.as_bytes(), Path::new("c"), ConlluColumn::Upos).unwrap_err();
        assert_eq!(err.to_string(), "c:1: expected 10 columns, found 4");
        let skipped = CONLLU.replace("\n2\t'm", "\n5\t'm");
        let err = parse_conllu(skipped.as_bytes(), Path::new("c"), ConlluColumn::Upos).unwrap_err();
        assert!(
            err.to_string().starts_with("c:5:1: expected word ID 2"),
            "{err}"
        );
    }

    #[test]
    fn missing_tag_is_a_token_tag_mismatch() {
        let text = b"a O\nb\nc O\n";
        let err = parse_columns(text, Path::new("m"), ColumnFormat::two_column_iob2()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "m:2: sentence starting on line 1 has 3 tokens but 2 tags (expected one tag per token)"
        );
    }

    #[test]
    fn universal_ner_layout_and_comments() {
        let text = "# sent_id = x\n1\tNew\tB-LOC\t-\t-\n2\tYork\tI-LOC\t-\t-\n\n1\t#\tO\t-\t-\n";
        let s = parse_columns(
            text.as_bytes(),
            Path::new("u"),
            ColumnFormat::universal_ner(),
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["New", "York"]);
        assert_eq!(s[1].tokens, ["#"]);
    }

    #[test]
    fn malformed_iob_tag_and_plain_scheme() {
        let text = b"a X-PER\n";
        let err = parse_columns(text, Path::new("p"), ColumnFormat::two_column_iob2()).unwrap_err();
        assert!(err.to_string().contains("expected an IOB2 tag"), "{err}");
        let plain = ColumnFormat {
            scheme: TagScheme::Plain,
            ..ColumnFormat::two_column_iob2()
        };
        assert_eq!(
            parse_columns(text, Path::new("p"), plain).unwrap()[0].tags,
            ["X-PER"]
        );
    }

    #[test]
    fn tagged_sentence_checks_counts() {
        assert!(TaggedSentence::new(vec!["a".into()], vec![]).is_err());
    }
}
