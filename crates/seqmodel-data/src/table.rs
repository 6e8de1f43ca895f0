//! Delimited text tables (CSV, TSV) with columns addressed by header name, and numeric columns
//! with an explicit policy for missing values.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result, excerpt};
use crate::source::{read_bytes, text_of};

/// The dialect of a delimited file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableFormat {
    /// Field separator (`b','` or `b'\t'`).
    pub delimiter: u8,
    /// Whether `"` quotes fields (RFC 4180). Off for TSV, where quotes are ordinary text.
    pub quoting: bool,
    /// Whether the first row names the columns. Without one, columns are named `"0"`, `"1"`, …
    pub has_header: bool,
}

impl TableFormat {
    /// Comma-separated, quoted fields, with a header.
    pub fn csv() -> Self {
        Self {
            delimiter: b',',
            quoting: true,
            has_header: true,
        }
    }

    /// Tab-separated, no quoting, with a header.
    pub fn tsv() -> Self {
        Self {
            delimiter: b'\t',
            quoting: false,
            has_header: true,
        }
    }

    /// Sets whether there is a header row.
    pub fn with_header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }
}

/// What to do with missing numeric values (empty cells and `NaN`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum FillPolicy {
    /// A missing value is an error naming its line and column (the default).
    #[default]
    Error,
    /// Carry the last value forward (leading gaps take the first value that follows).
    Forward,
    /// Interpolate linearly between the neighbours (gaps at the ends take the nearest value).
    Linear,
    /// Use this constant.
    Constant(f64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    line: usize,
    fields: Vec<String>,
}

/// A parsed table: a header and rows that all have the header's number of fields.
///
/// ```
/// use std::path::Path;
/// use seqmodel_data::{FillPolicy, Table, TableFormat};
///
/// let csv = b"day,temp\n1,20.5\n2,\n3,22.5\n";
/// let table = Table::parse(csv, Path::new("t.csv"), TableFormat::csv())?;
/// assert!(table.numeric_column("temp", FillPolicy::Error).is_err()); // t.csv:3:2: missing value
/// assert_eq!(table.numeric_column("temp", FillPolicy::Linear)?, vec![20.5, 21.5, 22.5]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Row>,
}

impl Table {
    /// Reads and parses a file.
    pub fn read(path: impl AsRef<Path>, format: TableFormat) -> Result<Self> {
        let path = path.as_ref();
        Self::parse(&read_bytes(path)?, path, format)
    }

    /// Parses bytes; `path` names the source in errors.
    pub fn parse(bytes: &[u8], path: &Path, format: TableFormat) -> Result<Self> {
        let text = text_of(bytes, path, "a header and rows")?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(format.delimiter)
            .quoting(format.quoting)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|err| {
                let line = err.position().map_or(0, |p| p.line() as usize);
                Error::Malformed {
                    at: Location::line(path, line),
                    expected: "a delimited row".into(),
                    found: excerpt(&err.to_string()),
                }
            })?;
            let line = record.position().map_or(0, |p| p.line() as usize);
            let fields: Vec<String> = record.iter().map(str::to_string).collect();
            match &header {
                None if format.has_header => {
                    header = Some(fields.iter().map(|f| f.trim().to_string()).collect());
                    continue;
                }
                None => header = Some((0..fields.len()).map(|i| i.to_string()).collect()),
                Some(_) => {}
            }
            let expected = header.as_ref().map_or(0, Vec::len);
            if fields.len() != expected {
                return Err(Error::ColumnCount {
                    at: Location::line(path, line),
                    expected,
                    found: fields.len(),
                });
            }
            rows.push(Row { line, fields });
        }
        let header = header.unwrap_or_default();
        if rows.is_empty() {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
                expected: "at least one data row".into(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// The file the table came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Always false: parsing rejects tables without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The 1-based file line of data row `row`.
    pub fn line_of(&self, row: usize) -> usize {
        self.rows[row].line
    }

    /// The position of column `name`, or [`Error::MissingColumn`].
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                available: self.header.clone(),
            })
    }

    /// The cells of column `name` as text.
    pub fn text_column(&self, name: &str) -> Result<Vec<&str>> {
        let col = self.column_index(name)?;
        Ok(self.rows.iter().map(|r| r.fields[col].as_str()).collect())
    }

    /// The cell at data row `row`, column `col`.
    pub fn cell(&self, row: usize, col: usize) -> &str {
        &self.rows[row].fields[col]
    }

    /// Like [`Table::text_column`], but an empty (whitespace-only) cell is an error.
    pub fn nonempty_text_column(&self, name: &str) -> Result<Vec<&str>> {
        let col = self.column_index(name)?;
        self.rows
            .iter()
            .map(|r| {
                let cell = r.fields[col].as_str();
                if cell.trim().is_empty() {
                    Err(Error::MissingValue {
                        at: Location::at(&self.path, r.line, col + 1),
                        column: name.to_string(),
                    })
                } else {
                    Ok(cell)
                }
            })
            .collect()
    }

    /// The cells of column `name` as numbers. Missing values (empty cells, `NaN`) follow `fill`;
    /// anything else that is not a finite number is an [`Error::NotANumber`].
    pub fn numeric_column(&self, name: &str, fill: FillPolicy) -> Result<Vec<f64>> {
        let col = self.column_index(name)?;
        let mut values = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let cell = row.fields[col].trim();
            if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
                values.push(None);
                continue;
            }
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => values.push(Some(v)),
                _ => {
                    return Err(Error::NotANumber {
                        at: Location::at(&self.path, row.line, col + 1),
                        column: name.to_string(),
                        found: excerpt(cell),
                    });
                }
            }
        }
        let missing_error = |row: usize| Error::MissingValue {
            at: Location::at(&self.path, self.rows[row].line, col + 1),
            column: name.to_string(),
        };
        let first_missing = values.iter().position(Option::is_none);
        let Some(first_missing) = first_missing else {
            return Ok(values.into_iter().flatten().collect());
        };
        match fill {
            FillPolicy::Error => Err(missing_error(first_missing)),
            FillPolicy::Constant(c) => Ok(values.into_iter().map(|v| v.unwrap_or(c)).collect()),
            FillPolicy::Forward | FillPolicy::Linear => {
                let known: Vec<usize> =
                    (0..values.len()).filter(|&i| values[i].is_some()).collect();
                if known.is_empty() {
                    return Err(missing_error(first_missing));
                }
                Ok(fill_gaps(&values, &known, fill == FillPolicy::Linear))
            }
        }
    }
}

/// Fills `None`s from the known neighbours (`known` = indices of `Some`, non-empty, ascending).
fn fill_gaps(values: &[Option<f64>], known: &[usize], linear: bool) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let mut next = 0; // index into `known` of the first known position >= i
    for (i, v) in values.iter().enumerate() {
        while next < known.len() && known[next] < i {
            next += 1;
        }
        if let Some(v) = v {
            out.push(*v);
            continue;
        }
        let before = next.checked_sub(1).map(|k| known[k]);
        let after = known.get(next).copied();
        let value = match (before, after) {
            (Some(b), Some(a)) if linear => {
                let (vb, va) = (values[b].unwrap_or(0.0), values[a].unwrap_or(0.0));
                vb + (va - vb) * (i - b) as f64 / (a - b) as f64
            }
            (Some(b), _) => values[b].unwrap_or(0.0),
            (None, Some(a)) => values[a].unwrap_or(0.0),
            (None, None) => 0.0,
        };
        out.push(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table> {
        Table::parse(text.as_bytes(), Path::new("t.csv"), TableFormat::csv())
    }

    #[test]
    fn wrong_column_count_names_the_line() {
        let err = parse("a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(err.to_string(), "t.csv:3: expected 2 columns, found 1");
    }

    #[test]
    fn missing_header_column_lists_the_columns() {
        let err = parse("a,b\n1,2\n").unwrap().column_index("c").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: missing column \"c\" in the header (columns: a, b)"
        );
    }

    #[test]
    fn non_numeric_and_infinite_values_are_errors() {
        let table = parse("a,b\n1,2\n3,n/a\n4,inf\n").unwrap();
        let err = table.numeric_column("b", FillPolicy::Linear).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:3:2: column \"b\": expected a number, found \"n/a\""
        );
    }

    #[test]
    fn nan_and_empty_cells_follow_the_fill_policy() {
        let table = parse("v\n1\nNaN\n\"\"\n4\n").unwrap();
        let err = table.numeric_column("v", FillPolicy::Error).unwrap_err();
        assert!(
            matches!(&err, Error::MissingValue { at, .. } if at.line == 3),
            "{err}"
        );
        assert_eq!(
            table.numeric_column("v", FillPolicy::Forward).unwrap(),
            vec![1.0, 1.0, 1.0, 4.0]
        );
        assert_eq!(
            table.numeric_column("v", FillPolicy::Linear).unwrap(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            table
                .numeric_column("v", FillPolicy::Constant(0.0))
                .unwrap(),
            vec![1.0, 0.0, 0.0, 4.0]
        );
    }

    #[test]
    fn leading_gaps_take_the_first_value() {
        let table = parse("v\nnan\n5\n").unwrap();
        assert_eq!(
            table.numeric_column("v", FillPolicy::Forward).unwrap(),
            vec![5.0, 5.0]
        );
    }

    #[test]
    fn header_only_and_empty_files_are_rejected() {
        assert!(matches!(parse("a,b\n"), Err(Error::EmptyFile { .. })));
        assert!(matches!(parse(""), Err(Error::EmptyFile { .. })));
    }

    #[test]
    fn tsv_keeps_quotes_and_headerless_columns_are_numbered() {
        let t = Table::parse(
            b"say \"hi\"\tx\n",
            Path::new("t.tsv"),
            TableFormat::tsv().with_header(false),
        )
        .unwrap();
        assert_eq!(t.header(), ["0", "1"]);
        assert_eq!(t.text_column("0").unwrap(), vec!["say \"hi\""]);
    }
}
