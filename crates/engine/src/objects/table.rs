//! A visitor's own events as object lists, read from a CSV table that the table parser has already
//! split into columns: one row an event, three columns an object (`met_pt`, `met_phi`, `e1_pt`, `e1_eta`,
//! `e1_phi`, …, `j10_phi`, as [`super::to_csv`] writes them; the MET's η may be left out), a label column
//! `is_signal` (1 signal, 0 background) and optionally a `process` column naming each event's kind. Every
//! way such a table can be unusable gets one sentence.

use thiserror::Error;

use super::study::{StudyData, TestGroup, MAX_TEST_EVENTS, MAX_TRAIN_EVENTS, MIN_EVENTS};
use super::{slot_name, Event, Object, ObjectType, SLOTS, ELECTRONS, JETS, MUONS};
use crate::rng::SeededRng;
use crate::table::column::ColumnData;
use crate::table::parse::Table;

/// Signal events a file must hold for an AUC to mean anything.
pub const MIN_SIGNAL_EVENTS: usize = 20;

#[derive(Clone, Debug, Error, PartialEq)]
pub enum ObjectTableError {
    #[error("it has none of the object columns the Events view reads (met_pt, e1_pt, e1_eta, e1_phi … j10_phi, as the view's own CSV download names them). It looks like a plain table of features: the \"Score your own events\" tab takes those")]
    NoObjectColumns,
    #[error("the object {object} has {present} but not {missing}: each object needs its pT, η and φ (the MET its pT and φ)")]
    IncompleteObject { object: String, present: String, missing: String },
    #[error("it has {count} {kind}s per event (columns up to {column}), but the view has slots for {slots}: keep the {slots} hardest {kind}s of each event and open it again")]
    TooManyObjects { kind: &'static str, count: usize, column: String, slots: usize },
    #[error("the column {column} is not numbers (line {line} holds \"{text}\"): every pT, η and φ must be a number, 0 for an empty slot")]
    NotNumbers { column: String, line: u64, text: String },
    #[error("line {line}: {column} is empty or not a finite number; write 0 for an empty slot")]
    MissingValue { column: String, line: u64 },
    #[error("line {line}: {column} is {value}, below zero; a pT is 0 for an empty slot or above 0")]
    NegativePt { column: String, line: u64, value: f32 },
    #[error("it has no is_signal column, so the view cannot tell the background it learns from from the signal it is judged on: add one (1 for a signal event, 0 for background)")]
    NoLabel,
    #[error("line {line}: is_signal is \"{text}\"; it must be 1 for a signal event or 0 for background")]
    BadLabel { line: u64, text: String },
    #[error("it has {background} background events and {signal} signal events; the view needs at least {need_background} background events (half to learn from, half to judge with) and {need_signal} signal events")]
    TooFewEvents { background: usize, signal: usize, need_background: usize, need_signal: usize },
}

/// Where each object's three columns are in the table.
struct ObjectColumns {
    slot: usize,
    pt: usize,
    eta: Option<usize>,
    phi: usize,
}

/// The slot a column name such as `mu3_eta` names, and which quantity; `Err` for an object beyond the
/// slots (`j11_pt`), with its type and number.
fn parse_name(name: &str) -> Option<Result<(usize, &str), (ObjectType, usize)>> {
    let (object, quantity) = name.trim().rsplit_once('_')?;
    let quantity = ["pt", "eta", "phi"].into_iter().find(|q| quantity.eq_ignore_ascii_case(q))?;
    let object = object.to_ascii_lowercase();
    if object == "met" {
        return Some(Ok((0, quantity)));
    }
    let (kind, range, number) = [("mu", ObjectType::Muon, MUONS), ("e", ObjectType::Electron, ELECTRONS), ("j", ObjectType::Jet, JETS)]
        .into_iter()
        .find_map(|(prefix, kind, range)| object.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok()).map(|n| (kind, range, n)))?;
    if number == 0 {
        return None;
    }
    Some(if number <= range.len() { Ok((range.start + number - 1, quantity)) } else { Err((kind, number)) })
}

fn find_objects(table: &Table) -> Result<Vec<ObjectColumns>, ObjectTableError> {
    let mut found: Vec<[Option<usize>; 3]> = vec![[None; 3]; SLOTS];
    let mut beyond: Option<(ObjectType, usize, String)> = None;
    for (index, column) in table.columns.iter().enumerate() {
        match parse_name(column.name()) {
            Some(Ok((slot, quantity))) => found[slot][["pt", "eta", "phi"].iter().position(|q| *q == quantity).expect("one of three")] = Some(index),
            Some(Err((kind, number))) if beyond.as_ref().is_none_or(|b| b.1 < number) => beyond = Some((kind, number, column.name().to_string())),
            _ => {}
        }
    }
    if let Some((kind, count, column)) = beyond {
        let (name, slots) = match kind {
            ObjectType::Electron => ("electron", ELECTRONS.len()),
            ObjectType::Muon => ("muon", MUONS.len()),
            _ => ("jet", JETS.len()),
        };
        return Err(ObjectTableError::TooManyObjects { kind: name, count, column, slots });
    }
    let mut objects = Vec::new();
    for (slot, [pt, eta, phi]) in found.into_iter().enumerate() {
        let needed = if slot == 0 { [pt, Some(eta.unwrap_or(usize::MAX)), phi] } else { [pt, eta, phi] };
        if needed.iter().all(Option::is_none) || (slot == 0 && pt.is_none() && phi.is_none()) {
            continue;
        }
        let names = ["pt", "eta", "phi"];
        if let Some(missing) = needed.iter().position(Option::is_none) {
            let object = slot_name(slot);
            let present: Vec<String> = needed.iter().zip(names).filter(|(c, _)| c.is_some_and(|c| c != usize::MAX)).map(|(_, n)| format!("{object}_{n}")).collect();
            return Err(ObjectTableError::IncompleteObject { present: present.join(" and "), missing: format!("{object}_{}", names[missing]), object });
        }
        objects.push(ObjectColumns { slot, pt: pt.expect("checked"), eta, phi: phi.expect("checked") });
    }
    if objects.is_empty() {
        return Err(ObjectTableError::NoObjectColumns);
    }
    Ok(objects)
}

/// A number column's value at a row, with the sentence for a column of text.
fn number(table: &Table, column: usize, row: usize) -> Result<f32, ObjectTableError> {
    let c = &table.columns[column];
    if let ColumnData::Text { .. } = c.data {
        let (line, text) = match c.summary.first_not_number.clone() {
            Some(note) => (note.line, note.text),
            None => (table.row_lines[row], cell_text(table, column, row)),
        };
        return Err(ObjectTableError::NotNumbers { column: c.name().to_string(), line, text });
    }
    let value = c.number(row);
    if !value.is_finite() {
        return Err(ObjectTableError::MissingValue { column: c.name().to_string(), line: table.row_lines[row] });
    }
    Ok(value)
}

/// Each row as an event, with whether it is signal and its kind (the `process` column, or "signal").
pub fn read_events(table: &Table) -> Result<Vec<(Event, bool, String)>, ObjectTableError> {
    let objects = find_objects(table)?;
    let label = table.columns.iter().position(|c| c.name().trim().eq_ignore_ascii_case("is_signal")).ok_or(ObjectTableError::NoLabel)?;
    let process = table.columns.iter().position(|c| c.name().trim().eq_ignore_ascii_case("process"));
    let mut events = Vec::with_capacity(table.rows());
    for row in 0..table.rows() {
        let mut slots = [Object::default(); SLOTS];
        for o in &objects {
            let pt = number(table, o.pt, row)?;
            if pt < 0.0 {
                return Err(ObjectTableError::NegativePt { column: table.columns[o.pt].name().to_string(), line: table.row_lines[row], value: pt });
            }
            let eta = o.eta.map_or(Ok(0.0), |c| number(table, c, row))?;
            slots[o.slot] = Object { pt, eta, phi: number(table, o.phi, row)? };
        }
        let line = table.row_lines[row];
        let is_signal = match table.columns[label].number(row) {
            v if v == 1.0 => true,
            v if v == 0.0 => false,
            _ => return Err(ObjectTableError::BadLabel { line, text: cell_text(table, label, row) }),
        };
        let kind = match process.map(|p| cell_text(table, p, row)).filter(|k| !k.is_empty()) {
            Some(kind) if is_signal => kind,
            _ => if is_signal { "signal" } else { "background" }.to_string(),
        };
        events.push((Event { slots, process: None }, is_signal, kind));
    }
    Ok(events)
}

fn cell_text(table: &Table, column: usize, row: usize) -> String {
    match &table.columns[column].data {
        ColumnData::Numeric(values) => if values[row].is_nan() { String::new() } else { values[row].to_string() },
        ColumnData::Text { codes, levels, .. } => codes.get(row).and_then(|&c| levels.get(c as usize)).cloned().unwrap_or_default(),
    }
}

/// A file's events as a study's data: its background shuffled (by `seed`) and halved, one half to learn
/// from and one to judge with, and its signal events grouped by kind, in the order each kind first appears.
pub fn study_data(events: Vec<(Event, bool, String)>, seed: u64, source: &str) -> Result<StudyData, ObjectTableError> {
    let (mut background, signal): (Vec<_>, Vec<_>) = events.into_iter().partition(|(_, is_signal, _)| !is_signal);
    if background.len() < 2 * MIN_EVENTS || signal.len() < MIN_SIGNAL_EVENTS {
        return Err(ObjectTableError::TooFewEvents { background: background.len(), signal: signal.len(), need_background: 2 * MIN_EVENTS, need_signal: MIN_SIGNAL_EVENTS });
    }
    SeededRng::derive(seed, "file-background").shuffle(&mut background);
    let half = background.len() / 2;
    let test_background: Vec<Event> = background.drain(half..).take(MAX_TEST_EVENTS).map(|e| e.0).collect();
    let train: Vec<Event> = background.into_iter().take(MAX_TRAIN_EVENTS).map(|e| e.0).collect();
    let mut groups: Vec<TestGroup> = Vec::new();
    for (event, _, kind) in signal {
        let at = match groups.iter().position(|g| g.name == kind) {
            Some(at) => at,
            None => {
                let key = format!("kind{}", groups.len() + 1);
                groups.push(TestGroup { name: kind, key, events: Vec::new() });
                groups.len() - 1
            }
        };
        if groups[at].events.len() < MAX_TEST_EVENTS {
            groups[at].events.push(event);
        }
    }
    Ok(StudyData { train, test_background, test_signals: groups, source: source.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::toy::{background, generate};
    use crate::objects::{to_csv, Process};
    use crate::table::parse::parse_bytes;

    fn read(text: &str) -> Result<Vec<(Event, bool, String)>, ObjectTableError> {
        read_events(&parse_bytes(text.as_bytes(), 1 << 16).unwrap())
    }

    #[test]
    fn the_views_own_csv_reads_back_event_for_event() {
        let mut events = background(30, 4);
        events.extend(generate(Process::A4l, 5, 4));
        let read = read_events(&parse_bytes(&to_csv(&events), 997).unwrap()).unwrap();
        assert_eq!(read.len(), 35);
        for ((event, is_signal, kind), original) in read.iter().zip(&events) {
            assert_eq!(event.slots, original.slots);
            assert_eq!(*is_signal, original.process.unwrap().is_signal());
            assert_eq!(kind, if *is_signal { "a4l" } else { "background" });
        }
    }

    #[test]
    fn a_short_table_needs_only_its_objects_and_a_label() {
        let read = read("met_pt,met_phi,j1_pt,j1_eta,j1_phi,is_signal\n30,0.5,50,1.0,-2,0\n10,1,0,0,0,1\n").unwrap();
        assert_eq!(read[0].0.slots[JETS.start], Object { pt: 50.0, eta: 1.0, phi: -2.0 });
        assert_eq!(read[1].0.objects().count(), 1, "a jet of pT 0 is an empty slot");
        assert_eq!((read[1].1, read[1].2.as_str()), (true, "signal"));
    }

    #[test]
    fn every_unusable_table_gets_its_own_sentence() {
        let cases = [
            ("x,y,label\n1,2,0\n", "none of the object columns"),
            ("e1_pt,e1_phi,is_signal\n1,2,0\n", "the object e1 has e1_pt and e1_phi but not e1_eta"),
            ("j11_pt,j11_eta,j11_phi,j1_pt,j1_eta,j1_phi,is_signal\n1,2,3,1,2,3,0\n", "it has 11 jets per event (columns up to j11_pt), but the view has slots for 10"),
            ("e1_pt,e1_eta,e1_phi,is_signal\n1,NaN,3,0\n", "line 2: e1_eta is empty or not a finite number"),
            ("e1_pt,e1_eta,e1_phi,is_signal\n1,,3,0\n", "line 2: e1_eta is empty"),
            ("e1_pt,e1_eta,e1_phi,is_signal\n-4,1,3,0\n", "line 2: e1_pt is -4, below zero"),
            ("e1_pt,e1_eta,e1_phi,is_signal\nfast,1,3,0\nslow,1,2,0\nwarp,0,0,1\n", "the column e1_pt is not numbers (line 2 holds \"fast\")"),
            ("e1_pt,e1_eta,e1_phi\n1,2,3\n", "no is_signal column"),
            ("e1_pt,e1_eta,e1_phi,is_signal\n1,2,3,2\n", "line 2: is_signal is \"2\""),
        ];
        for (text, expected) in cases {
            let message = read(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }

    #[test]
    fn a_file_becomes_halved_background_and_signal_groups_by_kind() {
        let mut events: Vec<(Event, bool, String)> = background(600, 5).into_iter().map(|e| (e, false, "background".to_string())).collect();
        events.extend(generate(Process::A4l, 30, 5).into_iter().map(|e| (e, true, "A".to_string())));
        events.extend(generate(Process::LqBtau, 25, 5).into_iter().map(|e| (e, true, "B".to_string())));
        let data = study_data(events.clone(), 1, "mine.csv").unwrap();
        assert_eq!((data.train.len(), data.test_background.len()), (300, 300));
        assert_eq!(data.test_signals.iter().map(|g| (g.name.as_str(), g.key.as_str(), g.events.len())).collect::<Vec<_>>(), [("A", "kind1", 30), ("B", "kind2", 25)]);
        let too_few = study_data(events[..400].to_vec(), 1, "mine.csv").unwrap_err().to_string();
        assert_eq!(too_few, "it has 400 background events and 0 signal events; the view needs at least 512 background events (half to learn from, half to judge with) and 20 signal events");
    }
}
