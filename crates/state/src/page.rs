//! The parts of the page that a link names: the view it opens on, and what a classroom link hides.

/// A part of the page that a classroom link can hide, so a class sees only what the lesson needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PagePart {
    /// The choice of normal digits.
    NormalDigits,
    /// The network and training settings (hidden units, β, learning rate, …).
    ModelSettings,
    /// Stage 2, Anomaly Awareness.
    Awareness,
    /// The latent-space plot.
    Latent,
    /// The "score your own events" tab.
    TableView,
    /// The choice between WebGPU and the CPU.
    Backend,
    /// The "hunt a resonance" tab.
    HuntView,
    /// The "jet images" tab.
    JetsView,
    /// The "events as objects" tab (AnomalyCLR).
    EventsView,
}

impl PagePart {
    pub const ALL: [PagePart; 9] = [
        PagePart::NormalDigits,
        PagePart::ModelSettings,
        PagePart::Awareness,
        PagePart::Latent,
        PagePart::TableView,
        PagePart::Backend,
        PagePart::HuntView,
        PagePart::JetsView,
        PagePart::EventsView,
    ];

    /// Its name in a link (`hide=settings,awareness`).
    pub fn key(self) -> &'static str {
        match self {
            PagePart::NormalDigits => "normal",
            PagePart::ModelSettings => "settings",
            PagePart::Awareness => "awareness",
            PagePart::Latent => "latent",
            PagePart::TableView => "table",
            PagePart::Backend => "backend",
            PagePart::HuntView => "hunt",
            PagePart::JetsView => "jets",
            PagePart::EventsView => "events",
        }
    }

    /// What the Share panel calls it.
    pub fn label(self) -> &'static str {
        match self {
            PagePart::NormalDigits => "the choice of normal digits",
            PagePart::ModelSettings => "the network and training settings",
            PagePart::Awareness => "Anomaly Awareness (stage 2)",
            PagePart::Latent => "the latent-space plot",
            PagePart::TableView => "the \"score your own events\" tab",
            PagePart::Backend => "the WebGPU/CPU choice",
            PagePart::HuntView => "the \"hunt a resonance\" tab",
            PagePart::JetsView => "the \"jet images\" tab",
            PagePart::EventsView => "the \"events as objects\" tab",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// The view a link opens the page on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkView {
    #[default]
    Digits,
    Table,
    Hunt,
    Jets,
    Events,
}

impl LinkView {
    pub const ALL: [LinkView; 5] = [LinkView::Digits, LinkView::Table, LinkView::Hunt, LinkView::Jets, LinkView::Events];

    pub fn key(self) -> &'static str {
        match self {
            LinkView::Digits => "digits",
            LinkView::Table => "table",
            LinkView::Hunt => "hunt",
            LinkView::Jets => "jets",
            LinkView::Events => "events",
        }
    }

    /// The classroom part that hides this view, if any.
    pub fn hidden_by(self) -> Option<PagePart> {
        match self {
            LinkView::Digits => None,
            LinkView::Table => Some(PagePart::TableView),
            LinkView::Hunt => Some(PagePart::HuntView),
            LinkView::Jets => Some(PagePart::JetsView),
            LinkView::Events => Some(PagePart::EventsView),
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.key() == key)
    }
}
