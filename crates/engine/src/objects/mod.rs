//! Collision events as lists of objects, as the CMS ADC2021 challenge gives them (Govorkova et al.,
//! arXiv:2107.02157) and AnomalyCLR reads them: 19 slots, the missing transverse energy (MET), up to 4
//! electrons, 4 muons and 10 jets, each (pT, η, φ) with its type given by its slot; empty slots are zero.
//! Within a type the objects are ordered by pT. `toy` generates such events (SCIENCE.md, "Object-list
//! events").

pub mod augment;
pub mod clr;
pub mod encoder;
pub mod panels;
pub mod study;
pub mod table;
pub mod toy;

/// Slots: 0 the MET, 1–4 electrons, 5–8 muons, 9–18 jets.
pub const SLOTS: usize = 19;
pub const ELECTRONS: std::ops::Range<usize> = 1..5;
pub const MUONS: std::ops::Range<usize> = 5..9;
pub const JETS: std::ops::Range<usize> = 9..19;

/// The type of the object in a slot, with the challenge's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ObjectType {
    Met = 1,
    Electron = 2,
    Muon = 3,
    Jet = 4,
}

impl ObjectType {
    pub fn of_slot(slot: usize) -> Self {
        match slot {
            0 => ObjectType::Met,
            s if ELECTRONS.contains(&s) => ObjectType::Electron,
            s if MUONS.contains(&s) => ObjectType::Muon,
            _ => ObjectType::Jet,
        }
    }
}

/// One object; pT 0 is an empty slot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Object {
    pub pt: f32,
    pub eta: f32,
    pub phi: f32,
}

impl Object {
    pub fn is_empty(&self) -> bool {
        self.pt == 0.0
    }
}

/// Where an event comes from: the Standard Model background's four processes and the four signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Process {
    W,
    Qcd,
    Z,
    TTbar,
    /// A (50 GeV) → 4 leptons.
    A4l,
    /// A leptoquark pair (80 GeV), each → b τ.
    LqBtau,
    /// A neutral scalar (60 GeV) → τ τ.
    H0TauTau,
    /// A charged scalar (60 GeV) → τ ν.
    HpmTauNu,
}

impl Process {
    pub const BACKGROUND: [Process; 4] = [Process::W, Process::Qcd, Process::Z, Process::TTbar];
    pub const SIGNALS: [Process; 4] = [Process::A4l, Process::LqBtau, Process::H0TauTau, Process::HpmTauNu];

    pub fn is_signal(self) -> bool {
        Self::SIGNALS.contains(&self)
    }

    /// Its name in a CSV file and in `benches/artifacts/anomalyclr.json`.
    /// Its name on the page.
    pub fn name(self) -> &'static str {
        match self {
            Process::W => "W → ℓν",
            Process::Qcd => "QCD multijet",
            Process::Z => "Z → ℓℓ",
            Process::TTbar => "tt̄",
            Process::A4l => "A → 4ℓ",
            Process::LqBtau => "LQ → bτ",
            Process::H0TauTau => "h⁰ → ττ",
            Process::HpmTauNu => "h± → τν",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Process::W => "w_lnu",
            Process::Qcd => "qcd",
            Process::Z => "z_ll",
            Process::TTbar => "ttbar",
            Process::A4l => "a4l",
            Process::LqBtau => "lq_btau",
            Process::H0TauTau => "h0_tautau",
            Process::HpmTauNu => "hpm_taunu",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub slots: [Object; SLOTS],
    /// Where a toy event comes from; None for an event read from a visitor's file.
    pub process: Option<Process>,
}

impl Event {
    /// The objects present, with their slots.
    pub fn objects(&self) -> impl Iterator<Item = (usize, &Object)> {
        self.slots.iter().enumerate().filter(|(_, o)| !o.is_empty())
    }

    /// The network's view of an event, `FEATURES_PER_SLOT` numbers a slot: log(1 + pT), η, sin φ, cos φ,
    /// all zero for an empty slot (a padding mask tells them apart).
    pub fn features(&self) -> [f32; SLOTS * FEATURES_PER_SLOT] {
        let mut out = [0.0; SLOTS * FEATURES_PER_SLOT];
        for (slot, object) in self.objects() {
            let at = slot * FEATURES_PER_SLOT;
            out[at..at + FEATURES_PER_SLOT].copy_from_slice(&[object.pt.ln_1p(), object.eta, object.phi.sin(), object.phi.cos()]);
        }
        out
    }
}

pub const FEATURES_PER_SLOT: usize = 4;

/// The column names of a slot: `met_pt`, `e1_eta`, `mu4_phi`, `j10_pt`, …
pub(crate) fn slot_name(slot: usize) -> String {
    match ObjectType::of_slot(slot) {
        ObjectType::Met => "met".into(),
        ObjectType::Electron => format!("e{}", slot - ELECTRONS.start + 1),
        ObjectType::Muon => format!("mu{}", slot - MUONS.start + 1),
        ObjectType::Jet => format!("j{}", slot - JETS.start + 1),
    }
}

/// The events as CSV, one row an event: each slot's pT, η and φ (the type is the column's name), then
/// the process and `is_signal`; the table view reads it like any other file.
pub fn to_csv(events: &[Event]) -> Vec<u8> {
    let mut out = String::new();
    let mut header: Vec<String> = (0..SLOTS).flat_map(|s| ["pt", "eta", "phi"].map(|q| format!("{}_{q}", slot_name(s)))).collect();
    header.extend(["process".to_string(), "is_signal".to_string()]);
    out += &header.join(",");
    out.push('\n');
    for event in events {
        for object in &event.slots {
            out += &format!("{},{},{},", object.pt, object.eta, object.phi);
        }
        out += &format!("{},{}\n", event.process.map_or("unknown", Process::key), u8::from(event.process.is_some_and(Process::is_signal)));
    }
    out.into_bytes()
}
