//! Loaders for the data sets bundled in the repository's `data/` folder (see
//! `data/PROVENANCE.md` for sources, licences and counts).
//!
//! | loader | task | size |
//! |---|---|---|
//! | [`DataDir::rt_polarity`] | sentence → sentiment | 10,662 sentences |
//! | [`DataDir::ud_ewt`] | token → UPOS/XPOS (CoNLL-U) | 2,001 dev + 2,077 test sentences |
//! | [`DataDir::uner_ewt`] | token → NER (IOB2) | 2,001 dev + 2,077 test sentences |
//! | [`DataDir::cmudict`] | word → phonemes | 135,166 entries |
//! | [`DataDir::bible_en_es`] | English → Spanish | 7,717 verse pairs |
//! | [`DataDir::eustock`] | 4 stock indices | 1,860 days |
//! | [`DataDir::sunspots_monthly`], [`DataDir::sunspots_yearly`] | sunspot numbers | 3,126 months, 309 years |
//! | [`DataDir::seattle_weather`] | 4 weather measures | 1,461 days |

use std::path::{Path, PathBuf};

use crate::classification::TextClassificationDataset;
use crate::cmudict::{CmudictEntry, read_cmudict};
use crate::conll::{ColumnFormat, ConlluColumn, read_columns, read_conllu};
use crate::error::{Error, Result};
use crate::seq2seq::Seq2SeqDataset;
use crate::series::{SeriesCsvConfig, TimeSeries};
use crate::table::{FillPolicy, Table, TableFormat};
use crate::tagging::TaggingDataset;

/// Environment variable that points at the data folder.
pub const DATA_DIR_ENV: &str = "SEQMODEL_DATA";

/// The two English Web Treebank splits that are bundled (train is too large).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EwtSplit {
    /// `en_ewt-ud-dev`: 2,001 sentences.
    Dev,
    /// `en_ewt-ud-test`: 2,077 sentences.
    Test,
}

impl EwtSplit {
    fn stem(self) -> &'static str {
        match self {
            Self::Dev => "en_ewt-ud-dev",
            Self::Test => "en_ewt-ud-test",
        }
    }
}

/// The folder holding the bundled data.
///
/// ```no_run
/// use seqmodel_data::bundled::DataDir;
///
/// let data = DataDir::locate()?;
/// let reviews = data.rt_polarity()?;
/// assert_eq!(reviews.items().len(), 10_662);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data folder at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Finds the data folder: `$SEQMODEL_DATA`, else a `data/` folder with `PROVENANCE.md` in the
    /// current directory or one of its parents, else the repository's `data/` next to this crate.
    pub fn locate() -> Result<Self> {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV) {
            return Ok(Self::new(dir));
        }
        let mut tried = Vec::new();
        if let Ok(mut dir) = std::env::current_dir() {
            loop {
                let candidate = dir.join("data");
                if candidate.join("PROVENANCE.md").is_file() {
                    return Ok(Self::new(candidate));
                }
                tried.push(candidate);
                if !dir.pop() {
                    break;
                }
            }
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
        if repo.join("PROVENANCE.md").is_file() {
            return Ok(Self::new(repo));
        }
        tried.push(repo);
        Err(Error::Config {
            config: "DataDir::locate",
            field: DATA_DIR_ENV,
            reason: format!(
                "no data folder found (tried {}); set {DATA_DIR_ENV} to the repository's data/",
                tried
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    fn file(&self, parts: &[&str]) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(parts);
        path
    }

    /// Sentence polarity (Pang & Lee 2005): labels `neg` = 0, `pos` = 1.
    pub fn rt_polarity(&self) -> Result<TextClassificationDataset> {
        TextClassificationDataset::read_files_per_class(&[
            ("neg", self.file(&["rt-polarity", "rt-polarity.neg"])),
            ("pos", self.file(&["rt-polarity", "rt-polarity.pos"])),
        ])
    }

    /// UD English EWT with tags from `column` (UPOS, XPOS, …).
    pub fn ud_ewt(&self, split: EwtSplit, column: ConlluColumn) -> Result<TaggingDataset> {
        let name = format!("{}.conllu", split.stem());
        Ok(TaggingDataset::new(read_conllu(
            self.file(&["ud-ewt", name.as_str()]),
            column,
        )?))
    }

    /// Universal NER on EWT (IOB2 over PER/ORG/LOC, checked).
    pub fn uner_ewt(&self, split: EwtSplit) -> Result<TaggingDataset> {
        let name = format!("{}.iob2", split.stem());
        Ok(TaggingDataset::new(read_columns(
            self.file(&["uner-ewt", name.as_str()]),
            ColumnFormat::universal_ner(),
        )?))
    }

    /// The CMU Pronouncing Dictionary, alternates included.
    pub fn cmudict(&self) -> Result<Vec<CmudictEntry>> {
        read_cmudict(self.file(&["cmudict", "cmudict.dict"]))
    }

    /// cmudict as grapheme → phoneme pairs (source = word, target = space-separated phonemes).
    pub fn cmudict_pairs(&self) -> Result<Seq2SeqDataset> {
        Ok(Seq2SeqDataset::new(
            self.cmudict()?.iter().map(CmudictEntry::to_pair).collect(),
        ))
    }

    /// New Testament verse pairs, English (text from the WEB) → Spanish (Reina-Valera 1909).
    pub fn bible_en_es(&self) -> Result<Seq2SeqDataset> {
        Seq2SeqDataset::read_tsv(self.file(&["bible-en-es", "nt_web_rv1909.tsv"]), "en", "es")
    }

    /// Daily closing prices of DAX, SMI, CAC and FTSE (1991–1998, business days), indexed by
    /// observation number.
    pub fn eustock(&self) -> Result<TimeSeries> {
        TimeSeries::read_csv(
            self.file(&["eustock", "EuStockMarkets.csv"]),
            &SeriesCsvConfig::new()
                .with_index("rownames")
                .with_values(["DAX", "SMI", "CAC", "FTSE"]),
        )
    }

    /// Monthly mean sunspot numbers 1749-01 … 2009-06, column `sunspots`, index `YYYY-MM`.
    pub fn sunspots_monthly(&self) -> Result<TimeSeries> {
        let table = Table::read(
            self.file(&["sunspots", "sunspots_monthly.csv"]),
            TableFormat::csv(),
        )?;
        let years = table.numeric_column("year", FillPolicy::Error)?;
        let months = table.numeric_column("month", FillPolicy::Error)?;
        let index = years
            .iter()
            .zip(&months)
            .map(|(&y, &m)| format!("{:04}-{:02}", y as i64, m as i64))
            .collect();
        TimeSeries::from_table(&table, &SeriesCsvConfig::new().with_values(["sunspots"]))?
            .with_index(index)
    }

    /// Yearly mean sunspot numbers 1700 … 2008, column `SUNACTIVITY`, index `YEAR`.
    pub fn sunspots_yearly(&self) -> Result<TimeSeries> {
        TimeSeries::read_csv(
            self.file(&["sunspots", "sunspots_yearly.csv"]),
            &SeriesCsvConfig::new()
                .with_index("YEAR")
                .with_values(["SUNACTIVITY"]),
        )
    }

    /// Daily Seattle weather 2012–2015: `precipitation`, `temp_max`, `temp_min`, `wind`, indexed
    /// by ISO date. (The categorical `weather` column is in [`DataDir::seattle_weather_table`].)
    pub fn seattle_weather(&self) -> Result<TimeSeries> {
        TimeSeries::from_table(
            &self.seattle_weather_table()?,
            &SeriesCsvConfig::new().with_index("date").with_values([
                "precipitation",
                "temp_max",
                "temp_min",
                "wind",
            ]),
        )
    }

    /// The raw Seattle weather table, all columns as text.
    pub fn seattle_weather_table(&self) -> Result<Table> {
        Table::read(
            self.file(&["seattle-weather", "seattle-weather.csv"]),
            TableFormat::csv(),
        )
    }
}
