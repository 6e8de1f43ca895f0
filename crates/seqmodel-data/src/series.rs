//! Multivariate time series read from CSV: an optional index/date column and numeric columns.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result, excerpt};
use crate::table::{FillPolicy, Table, TableFormat};

/// Which columns of a CSV make the series, and how missing values are handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesCsvConfig {
    /// The table dialect.
    pub format: TableFormat,
    /// Column with the time index (dates or numbers), which must increase strictly.
    pub index_column: Option<String>,
    /// Numeric columns to read; `None` takes every column except the index.
    pub value_columns: Option<Vec<String>>,
    /// Missing values (empty cells, `NaN`): an error unless a fill policy is chosen.
    pub fill: FillPolicy,
}

impl SeriesCsvConfig {
    /// CSV, no index column, every column numeric, missing values are errors.
    pub fn new() -> Self {
        Self {
            format: TableFormat::csv(),
            index_column: None,
            value_columns: None,
            fill: FillPolicy::Error,
        }
    }

    /// Sets the index column.
    pub fn with_index(mut self, column: impl Into<String>) -> Self {
        self.index_column = Some(column.into());
        self
    }

    /// Reads only these numeric columns.
    pub fn with_values<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.value_columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the fill policy.
    pub fn with_fill(mut self, fill: FillPolicy) -> Self {
        self.fill = fill;
        self
    }
}

impl Default for SeriesCsvConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// A time series: `len` rows (time steps) × `num_columns` numeric columns, row-major.
///
/// ```
/// use std::path::Path;
/// use seqmodel_data::{SeriesCsvConfig, TimeSeries};
///
/// let csv = b"date,temp,wind\n2024-01-01,3.5,10\n2024-01-02,4.0,12\n";
/// let config = SeriesCsvConfig::new().with_index("date");
/// let series = TimeSeries::parse_csv(csv, Path::new("w.csv"), &config)?;
/// assert_eq!(series.columns(), ["temp", "wind"]);
/// assert_eq!(series.row(1), [4.0, 12.0]);
/// assert_eq!(series.index()[0], "2024-01-01");
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    source: PathBuf,
    index: Vec<String>,
    columns: Vec<String>,
    values: Vec<f64>,
}

impl TimeSeries {
    /// A series from rows (each with one value per column). Non-finite values and ragged rows
    /// are errors; the index is the row number.
    pub fn from_rows(columns: Vec<String>, rows: &[Vec<f64>]) -> Result<Self> {
        let source = PathBuf::from("<rows>");
        let mut values = Vec::with_capacity(rows.len() * columns.len());
        for (r, row) in rows.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(Error::ColumnCount {
                    at: Location::line(&source, r + 1),
                    expected: columns.len(),
                    found: row.len(),
                });
            }
            if let Some(c) = row.iter().position(|v| !v.is_finite()) {
                return Err(Error::NotANumber {
                    at: Location::at(&source, r + 1, c + 1),
                    column: columns[c].clone(),
                    found: row[c].to_string(),
                });
            }
            values.extend_from_slice(row);
        }
        Ok(Self {
            source,
            index: (0..rows.len()).map(|i| i.to_string()).collect(),
            columns,
            values,
        })
    }

    /// Reads a CSV file.
    pub fn read_csv(path: impl AsRef<Path>, config: &SeriesCsvConfig) -> Result<Self> {
        let path = path.as_ref();
        Self::from_table(&Table::read(path, config.format)?, config)
    }

    /// Parses CSV bytes; `path` names the source in errors.
    pub fn parse_csv(bytes: &[u8], path: &Path, config: &SeriesCsvConfig) -> Result<Self> {
        Self::from_table(&Table::parse(bytes, path, config.format)?, config)
    }

    /// Takes the configured columns of a parsed table.
    pub fn from_table(table: &Table, config: &SeriesCsvConfig) -> Result<Self> {
        let index = match &config.index_column {
            Some(name) => {
                let cells: Vec<String> = table
                    .text_column(name)?
                    .into_iter()
                    .map(|c| c.trim().to_string())
                    .collect();
                check_increasing(table, name, &cells)?;
                cells
            }
            None => (0..table.len()).map(|i| i.to_string()).collect(),
        };
        let columns: Vec<String> = match &config.value_columns {
            Some(columns) => columns.clone(),
            None => table
                .header()
                .iter()
                .filter(|h| Some(*h) != config.index_column.as_ref())
                .cloned()
                .collect(),
        };
        if columns.is_empty() {
            return Err(Error::Config {
                config: "SeriesCsvConfig",
                field: "value_columns",
                reason: format!("{}: no numeric column to read", table.path().display()),
            });
        }
        let data: Vec<Vec<f64>> = columns
            .iter()
            .map(|c| table.numeric_column(c, config.fill))
            .collect::<Result<_>>()?;
        let mut values = Vec::with_capacity(table.len() * columns.len());
        for row in 0..table.len() {
            values.extend(data.iter().map(|col| col[row]));
        }
        Ok(Self {
            source: table.path().to_path_buf(),
            index,
            columns,
            values,
        })
    }

    /// Replaces the index labels (one per row), e.g. with dates assembled from several columns.
    pub fn with_index(mut self, index: Vec<String>) -> Result<Self> {
        if index.len() != self.len() {
            return Err(Error::Config {
                config: "TimeSeries::with_index",
                field: "index",
                reason: format!("{} labels for {} rows", index.len(), self.len()),
            });
        }
        self.index = index;
        Ok(self)
    }

    /// The file the series was read from (`<rows>` for [`TimeSeries::from_rows`]); errors about
    /// the series name it.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no time steps.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Number of columns.
    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }

    /// The index labels (dates, numbers, or row numbers).
    pub fn index(&self) -> &[String] {
        &self.index
    }

    /// All values, row-major `[len, num_columns]`.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// One time step.
    pub fn row(&self, i: usize) -> &[f64] {
        let n = self.columns.len();
        &self.values[i * n..(i + 1) * n]
    }

    /// The position of column `name`.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| Error::MissingColumn {
                path: self.source.clone(),
                column: name.to_string(),
                available: self.columns.clone(),
            })
    }

    /// One column's values over time.
    pub fn column(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column_index(name)?;
        Ok((0..self.len()).map(|i| self.row(i)[c]).collect())
    }

    /// Rows `range` as a new series.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        let n = self.columns.len();
        Self {
            source: self.source.clone(),
            index: self.index[range.clone()].to_vec(),
            columns: self.columns.clone(),
            values: self.values[range.start * n..range.end * n].to_vec(),
        }
    }

    /// The same rows with every value replaced by `f(column, value)`.
    pub fn map_values(&self, f: impl Fn(usize, f64) -> f64) -> Self {
        let n = self.columns.len().max(1);
        Self {
            values: self
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| f(i % n, v))
                .collect(),
            ..self.clone()
        }
    }
}

/// The index must increase strictly: numerically when every cell is a number, otherwise as
/// text (which orders ISO dates `YYYY-MM-DD` correctly).
fn check_increasing(table: &Table, name: &str, cells: &[String]) -> Result<()> {
    let col = table.column_index(name)?;
    let numbers: Option<Vec<f64>> = cells.iter().map(|c| c.parse::<f64>().ok()).collect();
    for i in 1..cells.len() {
        let increasing = match &numbers {
            Some(n) => n[i] > n[i - 1],
            None => cells[i] > cells[i - 1],
        };
        if !increasing || cells[i].is_empty() {
            return Err(Error::Malformed {
                at: Location::at(table.path(), table.line_of(i), col + 1),
                expected: format!(
                    "an index value after \"{}\" (the index column must increase strictly)",
                    excerpt(&cells[i - 1])
                ),
                found: excerpt(&cells[i]),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_numeric_value_names_line_and_column() {
        let csv = b"t,a,b\n1,2,3\n2,x,4\n";
        let config = SeriesCsvConfig::new().with_index("t");
        let err = TimeSeries::parse_csv(csv, Path::new("s.csv"), &config).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.csv:3:2: column \"a\": expected a number, found \"x\""
        );
    }

    #[test]
    fn nan_is_an_error_unless_filled() {
        let csv = b"a\n1\nNaN\n3\n";
        let err = TimeSeries::parse_csv(csv, Path::new("s.csv"), &SeriesCsvConfig::new());
        assert!(matches!(err, Err(Error::MissingValue { .. })));
        let filled = TimeSeries::parse_csv(
            csv,
            Path::new("s.csv"),
            &SeriesCsvConfig::new().with_fill(FillPolicy::Linear),
        )
        .unwrap();
        assert_eq!(filled.column("a").unwrap(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn index_must_increase() {
        let csv = b"t,a\n1,1\n10,2\n9,3\n";
        let config = SeriesCsvConfig::new().with_index("t");
        let err = TimeSeries::parse_csv(csv, Path::new("s.csv"), &config).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("s.csv:4:1: expected an index value after \"10\""),
            "{err}"
        );
        // Numeric comparison: "10" after "9" is fine.
        let ok = b"t,a\n9,1\n10,2\n";
        assert!(TimeSeries::parse_csv(ok, Path::new("s.csv"), &config).is_ok());
    }

    #[test]
    fn selected_columns_and_slices() {
        let csv = b"d,x,cat,y\n2020-01-01,1,a,10\n2020-01-02,2,b,20\n2020-01-03,3,c,30\n";
        let config = SeriesCsvConfig::new()
            .with_index("d")
            .with_values(["y", "x"]);
        let s = TimeSeries::parse_csv(csv, Path::new("s.csv"), &config).unwrap();
        assert_eq!(s.row(0), [10.0, 1.0]);
        let tail = s.slice(1..3);
        assert_eq!(tail.index(), ["2020-01-02", "2020-01-03"]);
        assert_eq!(tail.column("x").unwrap(), vec![2.0, 3.0]);
        assert!(s.column("cat").is_err());
    }

    #[test]
    fn ragged_rows_are_rejected() {
        assert!(TimeSeries::from_rows(vec!["a".into()], &[vec![1.0, 2.0]]).is_err());
        assert!(TimeSeries::from_rows(vec!["a".into()], &[vec![f64::NAN]]).is_err());
    }
}
