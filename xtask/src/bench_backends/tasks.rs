//! Training throughput per task (`--cases tasks`): one timed epoch of each task's default run
//! on flex through `cargo xtask train` (classify rt-polarity with the BiLSTM, tag ud-ewt,
//! seq2seq cmudict G2P, forecast eustock DAX), and, with `--torch PYTHON`, one epoch of the
//! matching PyTorch script in `bench/tasks/`, in the same run, with the ratio.
//!
//! seqmodel's s/epoch is the epoch's `train_seconds` in the run's `metrics.jsonl` (forward,
//! backward and optimiser over the training split; validation excluded); PyTorch's is the
//! script's `s_per_epoch` (the same span). Sequences/s is the training split's size over that
//! time. Both are one first epoch: allocator and thread-pool start-up are in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

/// One task's command lines on both sides.
struct Task {
    /// The task, as `--task` names it.
    name: &'static str,
    /// What the default run trains (printed and recorded).
    recipe: &'static str,
    /// `cargo xtask train` arguments after `--task NAME`.
    train_args: &'static [&'static str],
    /// The PyTorch script in `bench/tasks/` and its arguments (an epoch, 2 threads).
    torch: (&'static str, &'static [&'static str]),
    /// The JSON file the script writes into `--out`, and where its s/epoch and training
    /// size are.
    torch_json: (&'static str, TorchFields),
}

/// Where a PyTorch script's JSON keeps its numbers.
#[derive(Clone, Copy)]
enum TorchFields {
    /// `results[0].s_per_epoch`, training size `split[0]` (task 1).
    Sentiment,
    /// `results[0].s_per_epoch` and `results[0].n_train` (task 2).
    Tagging,
    /// `result.s_per_epoch` and `result.train_pairs` (task 3).
    G2p,
    /// `s_per_epoch` of the `lstm` row of `results.logret` (the naive baseline's row comes
    /// first); the training size from its stdout (task 4).
    Stock,
}

const TASKS: [Task; 4] = [
    Task {
        name: "classify",
        recipe: "rt-polarity, BiLSTM 128 + max-pool, batch 64",
        train_args: &["--encoder", "bilstm"],
        torch: (
            "task1_sentiment.py",
            &["--models", "bilstm", "--epochs", "1"],
        ),
        torch_json: ("task1_sentiment.json", TorchFields::Sentiment),
    },
    Task {
        name: "tag",
        recipe: "ud-ewt UPOS, BiLSTM tagger",
        train_args: &[],
        torch: ("task2_tagging.py", &["--runs", "pos", "--epochs", "1"]),
        torch_json: ("task2_tagging.json", TorchFields::Tagging),
    },
    Task {
        name: "seq2seq",
        recipe: "cmudict G2P, BiLSTM encoder + LSTM decoder with attention",
        train_args: &[],
        torch: ("task3_g2p.py", &["--attn", "general", "--epochs", "1"]),
        torch_json: ("task3_g2p_general.json", TorchFields::G2p),
    },
    Task {
        name: "forecast",
        recipe: "eustock DAX log-returns, LSTM",
        train_args: &[],
        torch: (
            "task4_stock.py",
            &[
                "--target",
                "logret",
                "--models",
                "lstm",
                "--seeds",
                "0",
                "--max_epochs",
                "1",
            ],
        ),
        torch_json: ("task4_stock.json", TorchFields::Stock),
    },
];

/// One task's throughput.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    /// The task.
    pub task: String,
    /// What was trained.
    pub recipe: String,
    /// Training sequences (sentences, word pairs, windows) per epoch, seqmodel's split.
    pub train_sequences: usize,
    /// seqmodel's training seconds of the epoch, on flex.
    pub seqmodel_s_per_epoch: f64,
    /// `train_sequences / seqmodel_s_per_epoch`.
    pub seqmodel_sequences_per_s: f64,
    /// PyTorch's training seconds of its epoch (with `--torch`).
    pub torch_s_per_epoch: Option<f64>,
    /// PyTorch's training sequences per second (its own split's size).
    pub torch_sequences_per_s: Option<f64>,
    /// `torch_s_per_epoch / seqmodel_s_per_epoch` (> 1: seqmodel is faster).
    pub ratio: Option<f64>,
}

/// The workspace root (the data and `bench/` live there).
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `command`, returning its stdout; a failure names the command and shows its stderr.
fn output(mut command: Command, what: &str) -> Result<String, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(format!("{what} failed ({}): {tail}", out.status));
    }
    Ok(stdout)
}

/// The training-split size in a train command's summary line (`… N / N / N …`, train /
/// valid / test): the first of the three numbers.
pub fn train_size(stdout: &str) -> Option<usize> {
    stdout.lines().find_map(|line| {
        let parts: Vec<&str> = line.splitn(3, " / ").collect();
        let [head, middle, tail] = parts[..] else {
            return None;
        };
        middle.trim().parse::<usize>().ok()?;
        tail.split_whitespace().next()?.parse::<usize>().ok()?;
        head.split_whitespace().last()?.parse().ok()
    })
}

/// `train_seconds` of the first epoch in a `metrics.jsonl`.
pub fn first_train_seconds(jsonl: &str) -> Option<f64> {
    let first = jsonl.lines().find(|l| !l.trim().is_empty())?;
    let record: serde_json::Value = serde_json::from_str(first).ok()?;
    record.get("train_seconds")?.as_f64()
}

/// One epoch of `task` through `cargo xtask train` into `dir`: (training size, seconds).
fn seqmodel_epoch(task: &Task, dir: &Path) -> Result<(usize, f64), String> {
    let exe = std::env::current_exe().map_err(|e| format!("tasks: no path to xtask: {e}"))?;
    let out = dir.join(task.name);
    let mut command = Command::new(exe);
    command
        .current_dir(workspace_root())
        .args(["train", "--task", task.name])
        .args(task.train_args)
        .args([
            "--epochs",
            "1",
            "--backend",
            "flex",
            "--progress",
            "plain",
            "--force",
        ])
        .arg("--out")
        .arg(&out);
    let what = format!("xtask train --task {}", task.name);
    let stdout = output(command, &what)?;
    let size = train_size(&stdout)
        .ok_or_else(|| format!("{what}: no `N / N / N` split sizes in its output"))?;
    let metrics = out.join("metrics.jsonl");
    let text =
        std::fs::read_to_string(&metrics).map_err(|e| format!("{}: {e}", metrics.display()))?;
    let seconds = first_train_seconds(&text)
        .ok_or_else(|| format!("{}: no train_seconds in its first line", metrics.display()))?;
    Ok((size, seconds))
}

/// One epoch of `task`'s PyTorch script with `python` into `dir`: (training size, seconds).
fn torch_epoch(task: &Task, python: &str, dir: &Path) -> Result<(usize, f64), String> {
    let (script, args) = task.torch;
    let out = dir.join(format!("torch-{}", task.name));
    let mut command = Command::new(python);
    command
        .current_dir(workspace_root().join("bench/tasks"))
        .arg(script)
        .args(args)
        .args(["--threads", "2", "--out"])
        .arg(&out);
    let what = format!("--torch {python} {script}");
    let stdout = output(command, &what)?;
    let (file, fields) = task.torch_json;
    let path = out.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let number = |v: &serde_json::Value| v.as_f64();
    let found = match fields {
        TorchFields::Sentiment => number(&json["results"][0]["s_per_epoch"])
            .zip(json["split"][0].as_u64().map(|n| n as usize)),
        TorchFields::Tagging => number(&json["results"][0]["s_per_epoch"])
            .zip(json["results"][0]["n_train"].as_u64().map(|n| n as usize)),
        TorchFields::G2p => number(&json["result"]["s_per_epoch"])
            .zip(json["result"]["train_pairs"].as_u64().map(|n| n as usize)),
        TorchFields::Stock => json["results"]["logret"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["model"] == "lstm"))
            .and_then(|r| number(&r["s_per_epoch"]))
            .zip(stdout.lines().find_map(|l| {
                l.split_once("] train ")?
                    .1
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })),
    };
    found.map(|(s, n)| (n, s)).ok_or_else(|| {
        format!(
            "{}: no s_per_epoch or training size where expected",
            path.display()
        )
    })
}

/// Times one epoch of every task (and PyTorch's, with `torch`), printing a table.
pub fn run_tasks(torch: Option<&str>) -> Result<Vec<TaskRow>, String> {
    let dir = std::env::temp_dir().join(format!("seqmodel-bench-tasks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    println!("\ntraining throughput, one epoch per task (flex; PyTorch 2 threads):");
    println!(
        "{:<9} {:>8} {:>11} {:>9} {:>11} {:>9} {:>10}  recipe",
        "task", "train", "seq s/ep", "seq/s", "torch s/ep", "torch/s", "torch/seq"
    );
    let mut rows = Vec::new();
    for task in &TASKS {
        let (size, seconds) = seqmodel_epoch(task, &dir)?;
        // A PyTorch script that fails loses its own columns only, not the run.
        let theirs = torch.and_then(|python| match torch_epoch(task, python, &dir) {
            Ok(found) => Some(found),
            Err(error) => {
                println!("  {}: PyTorch side skipped: {error}", task.name);
                None
            }
        });
        let row = TaskRow {
            task: task.name.to_string(),
            recipe: task.recipe.to_string(),
            train_sequences: size,
            seqmodel_s_per_epoch: seconds,
            seqmodel_sequences_per_s: size as f64 / seconds,
            torch_s_per_epoch: theirs.map(|(_, s)| s),
            torch_sequences_per_s: theirs.map(|(n, s)| n as f64 / s),
            ratio: theirs.map(|(_, s)| s / seconds),
        };
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
        println!(
            "{:<9} {:>8} {:>11.2} {:>9.0} {:>11} {:>9} {:>10}  {}",
            row.task,
            row.train_sequences,
            row.seqmodel_s_per_epoch,
            row.seqmodel_sequences_per_s,
            opt(row.torch_s_per_epoch, 2),
            opt(row.torch_sequences_per_s, 0),
            row.ratio.map_or("-".to_string(), |r| format!("{r:.2}x")),
            row.recipe
        );
        rows.push(row);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_training_size_is_the_first_of_the_three_split_sizes() {
        let classify = "classify rt-polarity: 8530 / 1066 / 1066 examples, 2 classes";
        assert_eq!(train_size(classify), Some(8530));
        let forecast = "loading\nforecast eustock (DAX): 1860 rows, 1290 / 270 / 270 windows";
        assert_eq!(train_size(forecast), Some(1290));
        assert_eq!(
            train_size("epoch 1 / 8 done"),
            None,
            "no number after: not sizes"
        );
        assert_eq!(train_size("nothing here"), None);
    }

    #[test]
    fn the_first_epoch_s_train_seconds_are_read() {
        let jsonl = "{\"epoch\":1,\"seconds\":11.6,\"train_seconds\":9.5,\"train\":{}}\n\
                     {\"epoch\":2,\"seconds\":12.0,\"train_seconds\":9.9}\n";
        assert_eq!(first_train_seconds(jsonl), Some(9.5));
        assert_eq!(first_train_seconds("{\"epoch\":1,\"seconds\":1.0}"), None);
    }
}
