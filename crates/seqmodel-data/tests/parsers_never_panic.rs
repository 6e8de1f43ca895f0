//! Every parser, fed arbitrary bytes, returns `Ok` or `Err` and never panics.
//!
//! Two generators: raw bytes (mostly invalid UTF-8 and garbage), and bytes drawn from the
//! characters these formats are made of (tabs, newlines, `#`, `-`, digits, `B-`/`I-` letters,
//! parentheses, quotes), which reach the deeper parsing paths.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use proptest::prelude::*;
use seqmodel_data::*;

fn format_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"\t\n\n\r ,;#-_.()\"'0123456789BIOLPERabcXYZ\xC3\xA9\xFF".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..600)
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..400)
}

fn run_every_parser(bytes: &[u8]) {
    let p = Path::new("fuzz");
    let _ = Table::parse(bytes, p, TableFormat::csv());
    let _ = Table::parse(bytes, p, TableFormat::tsv().with_header(false));
    if let Ok(table) = Table::parse(bytes, p, TableFormat::csv()) {
        for name in table.header().to_vec() {
            for fill in [
                FillPolicy::Error,
                FillPolicy::Forward,
                FillPolicy::Linear,
                FillPolicy::Constant(0.0),
            ] {
                let _ = table.numeric_column(&name, fill);
            }
        }
        if table.header().len() >= 2 {
            let (a, b) = (table.header()[0].clone(), table.header()[1].clone());
            let _ = TextClassificationDataset::from_table(&table, &a, &b);
            let _ = Seq2SeqDataset::from_table(&table, &a, &b);
        }
    }
    for column in [ConlluColumn::Upos, ConlluColumn::Xpos, ConlluColumn::Misc] {
        let _ = parse_conllu(bytes, p, column);
    }
    for format in [
        ColumnFormat::two_column_iob2(),
        ColumnFormat::universal_ner(),
    ] {
        let _ = parse_columns(bytes, p, format);
    }
    let _ = parse_cmudict(bytes, p);
    if let Ok(e) = PretrainedEmbeddings::parse(bytes, p) {
        let vocab = VocabConfig::default().build([["a", "b"]]).unwrap();
        let _ = e.align(&vocab, &AlignConfig::default());
    }
    let _ = Vocab::from_json(bytes, p);
    let text = String::from_utf8_lossy(bytes);
    let normalizer = Normalizer::default()
        .lowercase()
        .unicode(UnicodeForm::Nfkc)
        .strip_accents()
        .ascii_punctuation();
    let tokenizers: [&dyn Tokenizer; 4] = [
        &WhitespaceTokenizer::new(normalizer.clone()),
        &CharTokenizer::new(normalizer.clone()),
        &WordTokenizer::new(normalizer),
        &SymbolTokenizer,
    ];
    for tokenizer in tokenizers {
        let _ = tokenizer.tokenize(&text);
    }
    let _ = TextClassificationDataset::parse_files_per_class(&[("a", bytes, p), ("b", bytes, p)]);
    let index = SeriesCsvConfig::new().with_fill(FillPolicy::Linear);
    let _ = TimeSeries::parse_csv(bytes, p, &index);
    if let Ok(table) = Table::parse(bytes, p, TableFormat::csv())
        && let Some(first) = table.header().first()
    {
        let _ = TimeSeries::from_table(&table, &SeriesCsvConfig::new().with_index(first.clone()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_survive_arbitrary_bytes(bytes in any_bytes()) {
        run_every_parser(&bytes);
    }

    #[test]
    fn parsers_survive_format_like_bytes(bytes in format_bytes()) {
        run_every_parser(&bytes);
    }
}

#[test]
fn known_bad_inputs_give_typed_errors() {
    let p = Path::new("bad.txt");
    assert!(matches!(
        parse_conllu(b"", p, ConlluColumn::Upos),
        Err(Error::EmptyFile { .. })
    ));
    assert!(matches!(
        parse_cmudict(b"abc \xFF\n", p),
        Err(Error::InvalidUtf8 { .. })
    ));
    assert!(matches!(
        Table::parse(b"a,b\n1,2,3\n", p, TableFormat::csv()),
        Err(Error::ColumnCount {
            expected: 2,
            found: 3,
            ..
        })
    ));
    assert!(matches!(
        parse_columns(b"x B-PER\ny I-LOC\n", p, ColumnFormat::two_column_iob2()),
        Err(Error::InvalidIob { .. })
    ));
}
