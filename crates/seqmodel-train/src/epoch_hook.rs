//! [`EpochHook`]: what seqmodel does at the end of every completed epoch, run by burn-train as
//! its checkpointing strategy (the one hook it calls between two epochs, after validation).

use burn::tensor::Device;
use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};

use crate::checkpoint::epoch_seed;
use crate::epoch_log::EpochRecords;
use crate::guard::NonFiniteGuard;
use crate::monitor::BestEpoch;
use crate::schedule::Schedule;

/// At the end of epoch `e`: feeds `e`'s validation loss (mean over batches) to the schedule (reduce-on-plateau),
/// moves the guard to epoch `e + 1`, seeds the devices' RNG with
/// [`epoch_seed`]`(seed, e + 1)`, and asks burn-train to save the checkpoint of `e` and delete
/// the one `keep` epochs older — unless it is the best epoch so far by the run's monitor, which
/// is kept until a better one replaces it.
pub struct EpochHook {
    /// Checkpoints kept (≥ 2).
    pub keep: usize,
    /// The run's seed.
    pub seed: u64,
    /// The devices to seed.
    pub devices: Vec<Device>,
    /// The NaN/Inf guard.
    pub guard: NonFiniteGuard,
    /// The schedule (shares its state with the learner's).
    pub schedule: Schedule,
    /// The epochs logged so far.
    pub records: EpochRecords,
    /// The best epoch so far.
    pub best: BestEpoch,
}

impl EpochHook {
    /// Seeds every device for `epoch`.
    pub fn seed_epoch(&self, epoch: usize) {
        for device in &self.devices {
            device.seed(epoch_seed(self.seed, epoch));
        }
    }
}

impl CheckpointingStrategy for EpochHook {
    fn checkpointing(
        &mut self,
        epoch: usize,
        store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        // A query goes through the event store's queue after every event of the epoch, so it
        // is also the barrier that puts this epoch's `metrics.jsonl` line on disk before the
        // epoch's checkpoint.
        let valid_loss = store
            .find_metric("Loss", epoch, Aggregate::Mean, &Split::Valid)
            .or_else(|| self.records.valid_loss(epoch));
        if let Some(loss) = valid_loss {
            self.schedule.observe_valid_loss(loss);
        }
        self.guard.start_epoch(epoch + 1);
        self.seed_epoch(epoch + 1);
        let best_before = self.best.best().map(|(e, _)| e);
        self.best.observe(epoch);
        let best_now = self.best.best().map(|(e, _)| e);
        let mut actions = Vec::with_capacity(3);
        // Epochs older than the `keep` newest are deleted when they fall out of the window,
        // except the best one, which goes when it stops being the best.
        if epoch > self.keep && Some(epoch - self.keep) != best_now {
            actions.push(CheckpointingAction::Delete(epoch - self.keep));
        }
        if let Some(old) = best_before
            && best_now != Some(old)
            && old + self.keep < epoch
        {
            actions.push(CheckpointingAction::Delete(old));
        }
        actions.push(CheckpointingAction::Save);
        actions
    }
}
