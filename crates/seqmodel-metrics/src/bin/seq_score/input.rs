//! Reading the line-oriented input files of `seq-score`.

use std::io::Read;

use seqmodel_metrics::{Error, Result, is_py_space};

/// A file read into lines, with the name used in error messages.
pub struct Lines {
    /// The path as given (or `<stdin>`).
    pub name: String,
    text: String,
    spans: Vec<(usize, usize)>,
}

impl Lines {
    /// Number of lines.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Line `i` (0-based) without its `\n` terminator.
    pub fn get(&self, i: usize) -> &str {
        let (a, b) = self.spans[i];
        &self.text[a..b]
    }

    /// All lines in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().map(|&(a, b)| &self.text[a..b])
    }
}

/// Reads a UTF-8 text file (`-` = standard input) into lines split on `\n` only (as sacrebleu
/// reads files); a final line without terminator counts. Invalid UTF-8 is an error that names
/// the line.
pub fn read_lines(path: &str) -> Result<Lines> {
    let name = if path == "-" {
        "<stdin>".to_string()
    } else {
        path.to_string()
    };
    let mut bytes = Vec::new();
    let res = if path == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    res.map_err(|source| Error::Io {
        path: name.clone(),
        source,
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let line = memchr::memchr_iter(b'\n', &bytes[..bad]).count() + 1;
            let line_start = memchr::memrchr(b'\n', &bytes[..bad]).map_or(0, |p| p + 1);
            return Err(Error::File {
                path: name,
                line,
                message: format!(
                    "invalid UTF-8 at byte {} of the line: expected UTF-8 text",
                    bad - line_start
                ),
            });
        }
    };
    let mut spans = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        spans.push((start, end));
        start = end + 1;
    }
    if start < text.len() {
        spans.push((start, text.len()));
    }
    Ok(Lines { name, text, spans })
}

/// Reads a file that must not be empty.
pub fn read_non_empty(path: &str) -> Result<Lines> {
    let l = read_lines(path)?;
    if l.len() == 0 {
        return Err(Error::File {
            path: l.name,
            line: 0,
            message: "empty input: expected at least one line".into(),
        });
    }
    Ok(l)
}

/// Checks that two files have the same number of lines.
pub fn check_line_counts(a: &Lines, b: &Lines) -> Result<()> {
    if a.len() == b.len() {
        return Ok(());
    }
    Err(Error::File {
        path: b.name.clone(),
        line: 0,
        message: format!(
            "line count mismatch: {} has {} lines, {} has {}",
            a.name,
            a.len(),
            b.name,
            b.len()
        ),
    })
}

/// One item per line, surrounding whitespace removed; blank lines are errors.
pub fn items(l: &Lines) -> Result<Vec<String>> {
    l.iter()
        .enumerate()
        .map(|(i, s)| {
            let t = s.trim();
            if t.is_empty() {
                Err(Error::File {
                    path: l.name.clone(),
                    line: i + 1,
                    message: "empty line: expected a label".into(),
                })
            } else {
                Ok(t.to_string())
            }
        })
        .collect()
}

/// One finite number per line.
pub fn numbers(l: &Lines) -> Result<Vec<f64>> {
    l.iter()
        .enumerate()
        .map(|(i, s)| {
            let t = s.trim();
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(Error::File {
                    path: l.name.clone(),
                    line: i + 1,
                    message: format!("expected a finite number, found {t:?}"),
                }),
            }
        })
        .collect()
}

/// A CoNLL file: sentences of tags (last whitespace-separated column), separated by blank
/// lines; `-DOCSTART-` lines are document separators. Each tag keeps its 1-based line number.
pub fn conll_sentences(l: &Lines) -> Vec<Vec<(String, usize)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (i, line) in l.iter().enumerate() {
        let fields: Vec<&str> = line.split(is_py_space).filter(|f| !f.is_empty()).collect();
        match fields.last() {
            None => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            Some(_) if fields[0] == "-DOCSTART-" => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            Some(tag) => cur.push((tag.to_string(), i + 1)),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
