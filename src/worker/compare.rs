//! The worker's side of "Would a simple method do?": fits the ticked classical methods on the rows the
//! autoencoder trains on and scores every row with each, in slices of about
//! [`super::CHUNK_MILLISECONDS`], so that Cancel lands at once and progress keeps flowing. Each slice is
//! timed here and booked to its method's fit or score time. A cancelled or failed comparison leaves the
//! last finished one in place. A model file's methods come here too, to score without being fitted again.

use std::rc::Rc;

use anomaly_engine::table::compare::{AutoencoderScores, Comparison, ComparisonChoice, Work};
use anomaly_engine::table::prepare::{TableSetup, TrainOn};
use anomaly_engine::table::saved_baselines::SavedBaselines;
use anomaly_engine::table::Table;

use super::tables::Shared;
use super::{now_ms, post, spawn, yield_to_event_loop, CHUNK_MILLISECONDS};
use crate::protocol::{Event, TableEvent};

/// Rows scored per slice before the clock is read again.
const ROWS_PER_SLICE: usize = 2048;

#[derive(Default)]
pub struct CompareState {
    running: Option<Running>,
    /// The last finished comparison, for the download.
    pub finished: Option<Comparison>,
    /// Bumped by Cancel and each new comparison, so an older loop stops.
    generation: u64,
}

struct Running {
    comparison: Comparison,
    table: Rc<Table>,
    setup: TableSetup,
}

impl CompareState {
    /// A new file: earlier comparisons describe other rows.
    pub fn forget(&mut self) {
        self.generation += 1;
        self.running = None;
        self.finished = None;
    }
}

fn say(event: TableEvent) {
    post(&Event::Table(Box::new(event)));
}

pub fn start(state: &Shared, setup: TableSetup, choice: ComparisonChoice) {
    let st = state.borrow();
    let Some(events) = st.events.as_ref() else {
        return say(TableEvent::CompareFailed { message: "Load a file (or the simulated events) first.".into() });
    };
    let table = events.table.clone();
    let background = match (setup.train_on, st.background.as_ref()) {
        (TrainOn::OtherFile, Some(b)) => Some(b.table.clone()),
        _ => None,
    };
    let comparison = Comparison::new(&table, &setup, background.as_deref(), choice);
    drop(st);
    begin(state, comparison, table, setup);
}

/// Scores the loaded rows with the classical methods a model file carries (fitted when it was saved),
/// beside the autoencoder `setup` scored them with.
pub fn start_saved(state: &Shared, setup: TableSetup, saved: &SavedBaselines) {
    let Some(table) = state.borrow().events.as_ref().map(|events| events.table.clone()) else { return };
    let comparison = Comparison::from_saved(&table, &setup, saved);
    begin(state, comparison, table, setup);
}

fn begin(state: &Shared, comparison: Result<Comparison, String>, table: Rc<Table>, setup: TableSetup) {
    match comparison {
        Ok(comparison) => {
            let mut st = state.borrow_mut();
            st.compare.generation += 1;
            let generation = st.compare.generation;
            st.compare.running = Some(Running { comparison, table, setup });
            drop(st);
            spawn(run(state.clone(), generation));
        }
        Err(message) => say(TableEvent::CompareFailed { message }),
    }
}

pub fn cancel(state: &Shared) {
    let mut st = state.borrow_mut();
    if st.compare.running.take().is_some() {
        st.compare.generation += 1;
        say(TableEvent::CompareCancelled);
    }
}

async fn run(state: Shared, generation: u64) {
    loop {
        let finished = {
            let mut st = state.borrow_mut();
            if st.compare.generation != generation {
                return;
            }
            let Some(running) = st.compare.running.as_mut() else { return };
            let chunk_start = now_ms();
            while now_ms() - chunk_start < CHUNK_MILLISECONDS && !running.comparison.is_finished() {
                let start = now_ms();
                let work = running.comparison.step(&running.table, ROWS_PER_SLICE);
                running.comparison.add_time(work, now_ms() - start);
                if work == Work::Finished {
                    break;
                }
            }
            let (method, fraction) = running.comparison.progress();
            say(TableEvent::CompareProgress { method: method.map_or(String::new(), |m| m.name().to_string()), fraction });
            running.comparison.is_finished()
        };
        if finished {
            return finish(&state);
        }
        yield_to_event_loop().await;
    }
}

fn finish(state: &Shared) {
    let mut st = state.borrow_mut();
    let Some(Running { comparison, table, setup }) = st.compare.running.take() else { return };
    let autoencoder = st.autoencoder_scores(&setup);
    let explain = |row: usize| st.autoencoder_parts(&table, row);
    let summary = comparison.summary(
        &table,
        autoencoder.as_deref().map(|scores| AutoencoderScores { scores, fit_ms: None, explain: &explain }),
    );
    let mut row_lines: Vec<(usize, u64)> =
        summary.methods.iter().flat_map(|m| m.top_rows.iter().map(|r| (r.row, table.row_lines[r.row]))).collect();
    row_lines.sort_unstable();
    row_lines.dedup();
    st.compare.finished = Some(comparison);
    say(TableEvent::Compared { summary: Box::new(summary), row_lines });
}
