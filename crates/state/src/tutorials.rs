//! The guided tutorials: short sequences of steps for people who have never met an autoencoder.
//!
//! A step is plain-language text, a setup (written as the link fragment that [`crate::link`] reads, so a
//! step *is* a shareable link and every preset goes through the same validation as a hand-edited one), a
//! "try this" prompt, what the visitor should then see, and the part of the page to look at. The page
//! renders them; nothing here knows about a browser.
//!
//! Physics and machine-learning statements are kept to what the sources in each tutorial's "learn more"
//! line say (titles and arXiv numbers from SCIENCE.md). Where the toy can behave differently from the
//! paper, the step says so instead of promising a result.

/// A tutorial and one of its steps, both counted from zero (links count from one: `tut=vae.2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TutorialStep {
    pub tutorial: usize,
    pub step: usize,
}

pub struct Tutorial {
    /// Its name in a link.
    pub key: &'static str,
    pub title: &'static str,
    /// One line on the tutorial list.
    pub summary: &'static str,
    /// Where to read more: paper titles and arXiv numbers.
    pub learn_more: &'static str,
    pub steps: &'static [Step],
}

pub struct Step {
    pub title: &'static str,
    pub explain: &'static str,
    /// The setup, as link pairs; anything not named takes its default.
    pub setup: &'static str,
    pub try_this: &'static str,
    pub expect: &'static str,
    /// The element the "Show me" button brings into view and focuses, and how the button names it.
    pub show: (&'static str, &'static str),
}

impl TutorialStep {
    pub fn tutorial(self) -> &'static Tutorial {
        &TUTORIALS[self.tutorial]
    }

    pub fn content(self) -> &'static Step {
        &TUTORIALS[self.tutorial].steps[self.step]
    }

    pub fn is_last(self) -> bool {
        self.step + 1 == self.tutorial().steps.len()
    }

    pub fn next(self) -> Option<Self> {
        (!self.is_last()).then_some(Self { step: self.step + 1, ..self })
    }

    pub fn previous(self) -> Option<Self> {
        self.step.checked_sub(1).map(|step| Self { step, ..self })
    }

    /// Its name in a link: the tutorial's key and the step counted from one.
    pub fn key(self) -> String {
        format!("{}.{}", self.tutorial().key, self.step + 1)
    }

    /// Reads `vae.2`; `None` when there is no such tutorial or step.
    pub fn from_key(key: &str) -> Option<Self> {
        let (name, number) = key.split_once('.')?;
        let tutorial = TUTORIALS.iter().position(|t| t.key == name)?;
        let step = number.parse::<usize>().ok()?.checked_sub(1)?;
        (step < TUTORIALS[tutorial].steps.len()).then_some(Self { tutorial, step })
    }
}

const VAE_SOURCES: &str = "Khosa & Sanz, \"Anomaly Awareness\", arXiv:2007.14462; Finke, Krämer, Morandini, Mück & Oleksiyuk, \
\"Autoencoders for unsupervised anomaly detection in high energy physics\", arXiv:2104.09051.";

pub static TUTORIALS: [Tutorial; 8] = [
    Tutorial {
        key: "anomaly",
        title: "What is an anomaly?",
        summary: "Teach a network what ordinary handwriting looks like, then let it point at what does not fit.",
        learn_more: VAE_SOURCES,
        steps: &[
            Step {
                title: "Ordinary is whatever you have seen",
                explain: "An anomaly is something that does not fit the pattern of everything else. A computer can learn the pattern \
                    without ever being told what an anomaly looks like: it is shown only ordinary examples. Here the ordinary examples \
                    are handwritten zeros, real digits written by people (the MNIST set).",
                setup: "normal=0",
                try_this: "Press Train. The network looks at the zeros a few dozen at a time, five times over.",
                expect: "The loss curve drops steeply, then levels off: the network is getting better at redrawing zeros.",
                show: ("train", "the Train button"),
            },
            Step {
                title: "The network redraws what it sees",
                explain: "The network squeezes each picture through a narrow middle of 16 numbers and then draws it again from those \
                    numbers. It can only draw back well what it has learned to draw.",
                setup: "normal=0",
                try_this: "Look at the pairs of pictures: each test digit next to the network's redrawing of it.",
                expect: "Zeros come back looking like themselves. Other digits come back blurred, often bent towards a zero.",
                show: ("reconstruction-panel", "the redrawn digits"),
            },
            Step {
                title: "A score for oddness",
                explain: "The anomaly score is how different the redrawing is from the original. Ordinary digits get low scores and \
                    anomalies high ones, and a threshold on the score tells them apart.",
                setup: "normal=0",
                try_this: "Compare the two histograms: the scores of the zeros and the scores of all other digits.",
                expect: "Most other digits score higher than most zeros, with some overlap in the middle.",
                show: ("histogram-panel", "the score histograms"),
            },
            Step {
                title: "How good is good? The ROC curve",
                explain: "Slide the threshold from high to low. At each position, count the share of anomalies caught (the true-positive \
                    rate) and the share of ordinary digits wrongly flagged (the false-positive rate). That path is the ROC curve. The area \
                    under it, the AUC, is 0.5 for guessing and 1 for a perfect score.",
                setup: "normal=0",
                try_this: "Read the AUC above the ROC curve, then the table that scores each digit on its own.",
                expect: "An AUC well above 0.5, and some digits caught more easily than others.",
                show: ("auc-table-panel", "the table of digits"),
            },
            Step {
                title: "Change what counts as ordinary",
                explain: "Now five digits, 0 to 4, are ordinary and 5 to 9 are the anomalies. The network has to learn more shapes, and \
                    some anomalies share strokes with ordinary digits.",
                setup: "normal=0,1,2,3,4",
                try_this: "Press Train again and compare the AUC with the one you read for zeros alone.",
                expect: "The AUC is usually lower than with zeros alone: the more kinds of ordinary, the harder the odd ones are to spot.",
                show: ("train", "the Train button"),
            },
        ],
    },
    Tutorial {
        key: "vae",
        title: "Inside a VAE: reconstruction, latent space, β",
        summary: "Open up the network: the bottleneck, the map of codes it draws, and the knob β.",
        learn_more: "Banda, Khosa & Sanz, \"Strengthening Anomaly Awareness\", arXiv:2504.11520; Finke, Krämer, Morandini, Mück & \
            Oleksiyuk, \"Autoencoders for unsupervised anomaly detection in high energy physics\", arXiv:2104.09051.",
        steps: &[
            Step {
                title: "Encoder, bottleneck, decoder",
                explain: "A variational autoencoder (VAE) has two halves. The encoder turns a 784-pixel picture into a few numbers, its \
                    code in the latent space; the decoder turns the code back into a picture. With only 2 numbers per picture, every \
                    digit becomes a point on a flat map. Here 0, 1 and 7 are ordinary.",
                setup: "normal=0,1,7&latent=2",
                try_this: "Press Train, then look at the latent-space map.",
                expect: "The zeros, ones and sevens each gather in their own corner of the map; the other digits crowd in between them.",
                show: ("train", "the Train button"),
            },
            Step {
                title: "A tight bottleneck blurs",
                explain: "Two numbers cannot hold every detail of a handwritten digit, so the decoder draws a typical digit for each \
                    point of the map.",
                setup: "normal=0,1,7&latent=2",
                try_this: "Look at the redrawn digits of the run you just trained.",
                expect: "The redrawings are smooth and blurry: the style of each writer is lost, only the rough shape survives.",
                show: ("reconstruction-panel", "the redrawn digits"),
            },
            Step {
                title: "Widen the bottleneck",
                explain: "With 16 numbers per picture the code can carry much more detail.",
                setup: "normal=0,1,7&latent=16",
                try_this: "Press Train again and compare the loss and the redrawings with the 2-number run.",
                expect: "A lower loss and sharper redrawings. The AUC need not rise, and may even fall a little: a \
                    network that redraws everything better also redraws the anomalies better.",
                show: ("train", "the Train button"),
            },
            Step {
                title: "β: a tidy map or sharp drawings",
                explain: "A VAE's loss has two parts: the reconstruction error, plus β times the KL divergence, which pulls every code \
                    towards the same round cloud around the centre of the map. A larger β gives a tidier, smoother map and blurrier \
                    drawings; β = 0 is a plain autoencoder.",
                setup: "normal=0,1,7&latent=2&beta=4",
                try_this: "Press Train with β = 4 and look at the latent-space map and the redrawings.",
                expect: "The map zooms to fit its points, so read its axes: the codes sit in a narrower range, pulled towards the \
                    centre, and the redrawings get vaguer than with β = 1.",
                show: ("latent-panel", "the latent-space map"),
            },
            Step {
                title: "What exactly is scored",
                explain: "The anomaly score can be the reconstruction error alone, or the error plus the KL term, which says how unusual \
                    the code itself is. This step scores with both.",
                setup: "normal=0,1,7&kl=1",
                try_this: "Press Train and compare the AUC with that of step 3, which scored the reconstruction error alone.",
                expect: "The AUC moves a little. Which score is better depends on the digits, so measure rather than assume.",
                show: ("score_with_kl", "the scoring choice"),
            },
        ],
    },
    Tutorial {
        key: "awareness",
        title: "Anomaly Awareness: what a few labelled anomalies teach",
        summary: "Show the network a handful of odd examples and see whether it gets better at kinds it was never shown.",
        learn_more: "Banda, Khosa & Sanz, \"Strengthening Anomaly Awareness\", arXiv:2504.11520; Khosa & Sanz, \"Anomaly Awareness\", \
            arXiv:2007.14462.",
        steps: &[
            Step {
                title: "Stage 1: learn the ordinary",
                explain: "Digits 0 to 6 are ordinary. First the VAE learns them, as in the other tutorials, without any labels.",
                setup: "normal=0,1,2,3,4,5,6&aa.shown=noisy,blobs,occluded,digit7&aa.labelled=160",
                try_this: "Press Train and wait for the five epochs to finish.",
                expect: "A trained network, and in the Anomaly Awareness section a table of AUCs for each kind of anomaly.",
                show: ("train", "the Train button"),
            },
            Step {
                title: "Stage 2: show it a few anomalies",
                explain: "Now the network is fine-tuned with 160 labelled anomalies, 40 of each of four kinds: noisy digits, blobs, \
                    digits with a patch covered, and real 7s; that is one for every 30 ordinary digits it trains on. For those, training rewards a large reconstruction error, up to a margin (a hinge), \
                    and that reward is ramped in slowly. Ordinary digits keep the usual loss.",
                setup: "normal=0,1,2,3,4,5,6&aa.shown=noisy,blobs,occluded,digit7&aa.labelled=160",
                try_this: "Press Fine-tune.",
                expect: "The kinds that were shown get an AUC close to 1 after fine-tuning.",
                show: ("fine-tune", "the Fine-tune button"),
            },
            Step {
                title: "Kinds it was never shown",
                explain: "The claim of Anomaly Awareness is that the sensitivity carries over to anomalies of types never shown in \
                    fine-tuning. The paper showed it with other image sets and collider data; here the unseen kinds are the digits 8 \
                    and 9 and the other corruptions.",
                setup: "normal=0,1,2,3,4,5,6&aa.shown=noisy,blobs,occluded,digit7&aa.labelled=160",
                try_this: "Read the rows marked \"unseen\" in the table, and the mean change under it.",
                expect: "In this toy the mean AUC of the unseen kinds goes up, most of all for the 9s, which look like the shown \
                    7s; the summary says what the other unseen kinds gained without them. Not every kind improves: a kind that got \
                    worse is marked, with a likely reason.",
                show: ("aa-table", "the before-and-after table"),
            },
            Step {
                title: "How few is enough?",
                explain: "Labelled anomalies are scarce in a real search. Try the same with only 5 of them, then with 40.",
                setup: "normal=0,1,2,3,4,5,6&aa.shown=noisy,blobs,occluded,digit7&aa.labelled=5",
                try_this: "Press Train, then Fine-tune, and compare the table with the run on 160. Then set 40 and Fine-tune again.",
                expect: "The shown kinds still improve. With 5, the unseen kinds gained no more in our runs than the control of the \
                    next step gains with no anomalies at all. With 40 they gain more, but less than with 160: the difference is \
                    almost all in the 9s.",
                show: ("aa_labelled_anomalies", "the number of labelled anomalies"),
            },
            Step {
                title: "Is it the anomalies?",
                explain: "Fine-tuning also trains the network longer on ordinary digits, and that alone can change the AUCs. A \
                    control tells the two apart: the same steps on the same ordinary digits, with the labelled anomalies left out.",
                setup: "normal=0,1,2,3,4,5,6&aa.shown=noisy,blobs,occluded,digit7&aa.labelled=160",
                try_this: "Press Train, then Fine-tune, then \"Control: same, without anomalies\" and compare its column with \"AUC after\".",
                expect: "The control gains a little on unseen kinds too, here about a quarter of the total. Digit 9, which looks like \
                    the shown 7, gains far more with the anomalies; blurred digits gain as much without them.",
                show: ("fine-tune-control", "the control button"),
            },
            Step {
                title: "Does it work on collider events?",
                explain: "The paper's point for physicists: a few simulated signals of kinds you can imagine should make the \
                    detector more sensitive to kinds you did not simulate. This toy has four (labelled as a toy): A, a W′ to two \
                    two-pronged jets; B, two equal-mass two-pronged jets; C, two three-pronged jets; D, one unusual jet and one \
                    ordinary one. Only A's rows are shown to the fine-tuning; B, C and D stay unseen.",
                setup: "normal=0,1,2,3,4,5,6&aa.shown=noisy,blobs,occluded,digit7&aa.labelled=160&view=table&sim.rows=20000&sim.signal=0.04&sim.toy=signals",
                try_this: "Press \"Try with simulated collider events\", then \"Train and score\", then, under \"Show it a few \
                    anomalies\", keep A ticked and press \"Fine-tune with these anomalies\".",
                expect: "A table of the four kinds before, after and in the control, and a sentence with the labelled rows' own \
                    share of the gain on B, C and D. In our benchmark (five seeds, 40 labelled rows) that share averaged +0.021 AUC, \
                    but ranged from +0.001 to +0.048 between seeds: one run can show little, which is itself a finding.",
                show: ("aa-table-run", "the Fine-tune button"),
            },
        ],
    },
    Tutorial {
        key: "physics",
        title: "Hunting new physics: a hidden resonance in dijet events",
        summary: "Score simulated collisions and look for a rare heavy particle without telling the network what it is.",
        learn_more: "Das, Kasieczka & Shih, \"Residual ANODE\", arXiv:2312.11629 (searches of this kind on LHC Olympics-like \
            dijet events); Banda, Khosa & Sanz, \"Strengthening Anomaly Awareness\", arXiv:2504.11520.",
        steps: &[
            Step {
                title: "Collisions as rows of numbers",
                explain: "When protons collide at the LHC, they often produce two sprays of particles called jets. Each event here is \
                    five numbers: the mass of the jet pair (m_jj), the lighter jet's mass, the difference of the two jet masses, and \
                    τ21 of each jet, which is low when a jet has two prongs. The events are a toy simulation shaped like the LHC \
                    Olympics 2020 data: ordinary QCD background, plus 1% of a hidden heavy particle W′ (3.5 TeV) decaying to X \
                    (500 GeV) and Y (100 GeV), each of which decays to two quarks.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "Press \"Try with simulated collider events\".",
                expect: "A table of 50,000 events, labelled as a toy, with a label column that says which events are signal.",
                show: ("simulate", "the simulation button"),
            },
            Step {
                title: "Train without labels",
                explain: "The network trains on all events, signal included, and never sees the labels: it does not know what it is \
                    looking for. Because the signal is rare, it mostly learns the background, so signal events redraw badly. The \
                    labels are used only afterwards, to judge the scores.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "Press \"Train and score\".",
                expect: "The loss falls, then every event gets a score; the signal events gather at high scores in the histogram.",
                show: ("table-train", "the Train button"),
            },
            Step {
                title: "Significance improvement: the SIC curve",
                explain: "A cut on the score keeps a share ε_S of the signal and ε_B of the background. In a counting experiment the \
                    significance grows like S/√B, so the cut improves it by ε_S/√ε_B: the significance improvement (SIC). A SIC above \
                    1 means the cut helps.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "Read the SIC curve and its maximum, next to the AUC.",
                expect: "A SIC above 1 over a range of ε_S. At the far left only a few background events pass the cut, so that part \
                    of the curve is noisy: do not trust it.",
                show: ("table-sic-panel", "the SIC curve"),
            },
            Step {
                title: "A rarer signal",
                explain: "New physics, if it is there, is rare. Make the signal 0.2% of the events: 100 signal events among 50,000.",
                setup: "view=table&sim.rows=50000&sim.signal=0.002",
                try_this: "Press \"Try with simulated collider events\", then \"Train and score\" again.",
                expect: "The curves stay good and may even look better: with less signal among the training events, the \
                    network learns the background more purely. With only 100 signal events they are noisier, and what shrinks is \
                    the number of signal events above any cut, which a search must then see over the background.",
                show: ("simulate", "the simulation button"),
            },
        ],
    },
    Tutorial {
        key: "resonance",
        title: "Hunting a resonance with flows: ANODE and R-ANODE",
        summary: "Learn the background from the sidebands, then fit only what it does not explain.",
        learn_more: "Nachman & Shih, \"Anomaly detection with density estimation\" (ANODE), arXiv:2001.04990; Das, Kasieczka & \
            Shih, \"Residual ANODE\" (R-ANODE), arXiv:2312.11629.",
        steps: &[
            Step {
                title: "The bump you cannot see",
                explain: "A heavy particle decaying to two jets would add a small bump at its mass to the dijet mass spectrum m_jj. \
                    Here 1,000 signal events of a 3.5 TeV particle hide among 200,000 background events (a toy with known \
                    densities, not a detector simulation). A window around 3.5 TeV is the signal region; the rest are sidebands.",
                setup: "view=hunt&hunt.signal=1000&hunt.seed=1",
                try_this: "Press \"Start the hunt\", look at the spectrum, then tick \"Reveal the truth\".",
                expect: "A smooth falling spectrum with no visible bump. The truth shows the signal as a few percent of the \
                    signal region: too few to see by counting.",
                show: ("hunt-spectrum", "the mass spectrum"),
            },
            Step {
                title: "Learning the background from the sidebands",
                explain: "The features of an event (jet masses, τ21) change with m_jj. A normalizing flow learns their density \
                    given m_jj, p(x | m_jj), in the sidebands only, where there is almost no signal, and is then asked about the \
                    signal region, between the masses it saw. Its gap to the true background density, in nats per event, says \
                    how well that worked: this toy knows the truth.",
                setup: "view=hunt&hunt.signal=1000&hunt.seed=1",
                try_this: "Wait for the first fit to end and compare the dots, the line and the dashes of each feature.",
                expect: "The sideband model follows the signal-region data closely; the gap is a few hundredths of a nat. \
                    The quick hunt on this page trains briefly, so its gap is larger than at the paper's scale.",
                show: ("hunt-closure", "the closure panel"),
            },
            Step {
                title: "ANODE: a ratio of two large densities",
                explain: "ANODE trains a second flow on all signal-region data and scores each event by how much more likely the \
                    data are there than the background model says. When signal is a few events in a thousand, that ratio \
                    compares two large, separately learned densities whose small errors can be larger than the signal itself.",
                setup: "view=hunt&hunt.signal=1000&hunt.seed=1",
                try_this: "When ANODE has trained, find its SIC curve and compare it with the optimal one.",
                expect: "ANODE helps (SIC above 1) but stays well below the optimal tagger built from the true densities.",
                show: ("hunt-sic", "the SIC curves"),
            },
            Step {
                title: "R-ANODE: fit only the residual",
                explain: "R-ANODE keeps the background model fixed and fits the signal-region data as a mixture: a share w of a \
                    small new signal flow plus 1 − w of the background. The new flow only has to learn what the background does \
                    not explain, and w is learned with it.",
                setup: "view=hunt&hunt.signal=1000&hunt.seed=1",
                try_this: "Watch the learned w climb from its start at 1% while R-ANODE trains, and compare it with the true w.",
                expect: "w moves towards the truth, often ending below it, within a factor of about two. In the SIC table, \
                    R-ANODE should beat ANODE; the paper found this most clearly at low signal counts.",
                show: ("hunt-fraction", "the signal fraction"),
            },
            Step {
                title: "What the signal model learned, and where every method fails",
                explain: "A flow can be run backwards to draw events. In the toy the new particle makes jets of 100 and 500 GeV, so a \
                    signal model that found it draws a blob there. With less signal every method has less to learn from.",
                setup: "view=hunt&hunt.signal=300&hunt.seed=1",
                try_this: "Start a hunt with 300 signal events, then lower the slider further (100, then 0) and start again.",
                expect: "At 300 the blob is fainter and the SICs lower; with fewer events, all curves sink towards 1, where a \
                    cut no longer helps. With 0 signal events nothing should be found: a learned w near zero is the honest answer. \
                    One quick hunt is one seed: results vary from seed to seed.",
                show: ("hunt-samples", "the signal samples"),
            },
        ],
    },
    Tutorial {
        key: "jets",
        title: "Jet images: when an autoencoder finds the wrong thing",
        summary: "Train on ordinary jets and find top quarks; swap the roles and watch it fail.",
        learn_more: "Finke, Krämer, Morandini, Mück & Oleksiyuk, \"Autoencoders for unsupervised anomaly detection in high \
            energy physics\", arXiv:2104.09051 (JHEP 06 (2021) 161).",
        steps: &[
            Step {
                title: "What a jet image is",
                explain: "A quark or gluon from a collision becomes a narrow spray of particles, a jet. A top quark decays to three \
                    quarks, so a fast top makes one jet with three prongs. Each jet is centred, turned and flipped the same way, \
                    then drawn as a 40 × 40 picture of where its momentum landed. These jets are a toy built from simple \
                    formulas, not a detector simulation.",
                setup: "view=jets&jets.model=dense&jets.kappa=0.1&jets.train=4000&jets.seed=1",
                try_this: "Press \"Train both directions\", then follow one top jet through the preprocessing and compare the \
                    average images.",
                expect: "A QCD jet is one bright pixel with a faint spray; a top jet spreads its momentum over three prongs. Both \
                    light a few dozen pixels.",
                show: ("jets-steps", "the preprocessing steps"),
            },
            Step {
                title: "Train on QCD, find tops: it works",
                explain: "The first autoencoder learns to redraw QCD jets only, the ordinary background of a collider. A top jet, \
                    which it never saw, should be redrawn badly and so get a high score.",
                setup: "view=jets&jets.model=dense&jets.kappa=0.1&jets.train=4000&jets.seed=1",
                try_this: "Wait for the first model to finish and read its AUC in the table.",
                expect: "An AUC well above 0.5, around 0.9 or more: the QCD-trained model tags top jets.",
                show: ("jets-auc", "the AUC table"),
            },
            Step {
                title: "Invert the task: it fails",
                explain: "Now the roles swap: the second autoencoder learns top jets, and QCD jets are the anomaly. A good anomaly \
                    detector should not care which class is the ordinary one.",
                setup: "view=jets&jets.model=dense&jets.kappa=0.1&jets.train=4000&jets.seed=1",
                try_this: "When the second model has finished, compare its AUC with the first and look at its ROC curve.",
                expect: "An AUC below 0.5: the top-trained model redraws QCD jets even better than the tops it learned, and its \
                    ROC curve lies under the diagonal.",
                show: ("jets-roc", "the ROC curves"),
            },
            Step {
                title: "The error follows complexity",
                explain: "An autoencoder finds simple images easy to redraw, whatever it learned. Its error then measures how \
                    complex an image is, not how strange. In this toy, how concentrated a jet's momentum is (Σp², 1 for a single \
                    pixel) is the measure that matters most; the paper speaks of the number of lit pixels.",
                setup: "view=jets&jets.model=dense&jets.kappa=0.1&jets.train=4000&jets.seed=1",
                try_this: "Choose the model trained on top jets at κ = 1 above the details, then read the two scatter plots.",
                expect: "QCD jets (blue dots) with concentrated momentum get small errors; the error falls as concentration \
                    rises. Against lit pixels the pattern is weaker.",
                show: ("jets-complexity", "the complexity plots"),
            },
            Step {
                title: "Rescale the intensities, judge both directions",
                explain: "The paper's fix: replace each pixel p by p^κ / Σ p^κ. With κ below 1 the faint pixels count more, so a QCD \
                    jet stops looking simple. The price is paid in the direction that worked, so a setting is judged by its \
                    weaker direction.",
                setup: "view=jets&jets.model=dense&jets.kappa=0.1&jets.train=4000&jets.seed=1",
                try_this: "Read the κ = 0.1 row, then try κ = 0.5 or 0.05 and train again.",
                expect: "At κ = 0.1 the top-trained model tags QCD above 0.5 while the QCD-trained one still tags tops, though less \
                    well: the weaker direction rises by about 0.4. The small convolutional model behaves differently in this toy; \
                    the README has the numbers.",
                show: ("jets-verdict", "the verdict"),
            },
        ],
    },
    Tutorial {
        key: "baselines",
        title: "Would a simple method do? Five classical detectors beside the autoencoder",
        summary: "Run the methods practitioners compare against on the same events, read the table, and see when each fails.",
        learn_more: "Han, Hu, Huang, Jiang & Zhao, \"ADBench: Anomaly Detection Benchmark\", arXiv:2206.09426; Li, Zhao, Hu, \
            Botta, Ionescu & Chen, \"ECOD\", arXiv:2201.00382; Liu, Ting & Zhou, \"Isolation Forest\" (ICDM 2008).",
        steps: &[
            Step {
                title: "A table and a question",
                explain: "Before trusting a deep network, ask whether a simple method would do as well. Here are 50,000 toy \
                    collider events, 1% of them a hidden signal (a toy shaped like the LHC Olympics 2020 data, not a detector \
                    simulation), with a label column that is used only to judge the methods afterwards.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "Press \"Try with simulated collider events\".",
                expect: "A table of 50,000 events with five features and a label column, marked as a toy.",
                show: ("simulate", "the simulation button"),
            },
            Step {
                title: "The autoencoder on clean background",
                explain: "Because the table has a label, the page starts by training on the background rows only, so the \
                    autoencoder learns what ordinary events look like and nothing else.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "Press \"Train and score\" and read the AUC.",
                expect: "An AUC near 1 (0.996 in our run): the signal events redraw badly.",
                show: ("table-train", "the Train button"),
            },
            Step {
                title: "Five classical methods on the same rows",
                explain: "Isolation Forest cuts the rows at random and scores how quickly a row is cut off; kNN scores the distance \
                    to the k-th nearest training row and LOF how much sparser a row's neighbourhood is than its neighbours'; PCA is a \
                    linear autoencoder; ECOD scores how far out in each feature's own tail a row is. All five learn from the rows the \
                    autoencoder learned from.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "Press \"Compare methods\" and read the table and the sentence above it.",
                expect: "On this toy every method finds the signal: AUCs from 0.996 to 1.000, which the sentence calls equal. The \
                    times differ: ECOD and PCA take milliseconds, LOF the longest.",
                show: ("cmp-run", "the Compare button"),
            },
            Step {
                title: "Without clean background",
                explain: "In a real search nobody hands you clean background: you train on everything, signal included. A compact \
                    group of signal events then has close neighbours of its own, and a model that learns every row learns the \
                    group too.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "Choose \"Train on: all rows\", press \"Train and score\", then \"Compare methods\" again.",
                expect: "Isolation Forest and ECOD still find the signal (AUC 1.000 in our run). PCA falls to about 0.89, kNN and LOF \
                    to about 0.6, and the autoencoder below 0.5 (0.15): it redraws the signal group better than the background. \
                    Which method wins depends on the data, as ADBench found over many tables.",
                show: ("cmp-results", "the comparison"),
            },
            Step {
                title: "Why is this row anomalous?",
                explain: "Each method can say which features made a row's score: PCA and kNN by their parts of the error or the \
                    distance, ECOD by each feature's tail score, the forest by the features it cut on first. An explanation says \
                    where the method saw the row differ, not why nature made it so.",
                setup: "view=table&sim.rows=50000&sim.signal=0.01",
                try_this: "In \"Why is this row anomalous?\", choose ECOD, then Isolation Forest, and read the top rows.",
                expect: "The top rows lean on τ21 of both jets and the jet-mass difference, with values outside the training rows' \
                    5–95 % range: the two-prong, heavy jets of the signal.",
                show: ("cmp-why", "the explanations"),
            },
        ],
    },
    Tutorial {
        key: "events",
        title: "Events as objects: learning what new physics could look like",
        summary: "Teach a transformer which changes to an event are harmless and which look like new physics; no signal needed.",
        learn_more: "Dillon, Feiden, Favaro, Modak & Plehn, \"Anomalies, Representations, and Self-Supervision\", arXiv:2301.04660 \
            (SciPost Phys. Core 7, 056); Govorkova et al., \"LHC physics dataset for unsupervised New Physics detection at 40 MHz\", \
            arXiv:2107.02157.",
        steps: &[
            Step {
                title: "What an event is",
                explain: "A detector does not see particles directly: it records objects. Electrons, muons, jets (sprays from \
                    quarks and gluons), and the missing energy that invisible neutrinos carried away. Each has a momentum across \
                    the beam, pT, and a direction: η along the beam, φ around it. An event is this list, up to 19 objects here. \
                    The events are a toy built from simple formulas in the style of a public CMS data challenge.",
                setup: "view=events&events.loss=clr&events.add=on&events.split=on&events.encoder=transformer&events.train=6000&events.seed=1",
                try_this: "Press \"Train the encoder\" and look at the first event and the four signals below it.",
                expect: "The ordinary event has a lepton or two, some jets and missing energy; A → 4ℓ has four leptons; the τ \
                    signals have jets and missing energy that look much like the background.",
                show: ("events-displays", "the event displays"),
            },
            Step {
                title: "Two kinds of copy",
                explain: "A physical copy is the same event seen differently: turned about the beam, soft objects nudged, jet \
                    energies smeared as a detector would. An anomalous copy has extra objects added or one object split in two: \
                    the kind of change new physics often makes. The encoder never sees a real signal, only these copies.",
                setup: "view=events&events.loss=clr&events.add=on&events.split=on&events.encoder=transformer&events.train=6000&events.seed=1",
                try_this: "Compare the event with its three copies side by side.",
                expect: "The physical copy has the same objects, shifted in φ; the anomalous copies have more markers, or two \
                    markers where there was one.",
                show: ("events-displays", "the event and its copies"),
            },
            Step {
                title: "Pulling and pushing",
                explain: "The encoder turns each event into 32 numbers of length one. Training pulls an event's numbers towards \
                    those of its physical copy and pushes them away from its anomalous copy (and, in AnomalyCLR, from the other \
                    events of the batch). Their cosine similarity measures how close two events are: 1 is the same direction.",
                setup: "view=events&events.loss=clr&events.add=on&events.split=on&events.encoder=transformer&events.train=6000&events.seed=1",
                try_this: "Watch the histograms after each epoch.",
                expect: "Before training, both copies are about as similar to the event as each other, near 1. After a few epochs \
                    the physical copies stay close to 1 while the anomalous ones spread down towards 0.",
                show: ("events-similarity", "the similarity histograms"),
            },
            Step {
                title: "The representation space, and the score",
                explain: "An autoencoder learns the background's 32-number summaries; its reconstruction error is the anomaly \
                    score. The same autoencoder on the raw 76 numbers of each event is the comparison. Squashed to its two main \
                    directions, the summary space shows where each signal lands.",
                setup: "view=events&events.loss=clr&events.add=on&events.split=on&events.encoder=transformer&events.train=6000&events.seed=1",
                try_this: "When the study is done, read the table and pick each signal's ROC curves.",
                expect: "On this toy the summaries beat the raw objects on the τ signals (h⁰ → ττ, h± → τν), which the raw \
                    autoencoder ranks below a blind guess, and on A → 4ℓ by AUC; not on LQ → bτ. The paper found them better on \
                    all four.",
                show: ("events-auc", "the comparison table"),
            },
            Step {
                title: "Switch off \"add objects\"",
                explain: "Which anomalous copies the encoder sees decides what it learns to notice. A → 4ℓ has more leptons than \
                    the background, so the paper found that without the copies with added objects, the representation finds \
                    A → 4ℓ worse. This link trains with split objects only, on seed 2.",
                setup: "view=events&events.loss=clr&events.add=off&events.split=on&events.encoder=transformer&events.train=6000&events.seed=2",
                try_this: "Train, read A → 4ℓ in the table, then switch \"Add objects\" back on and train again; then try seeds 1 \
                    and 3 both ways.",
                expect: "On seed 2, A → 4ℓ falls from about 0.85 to 0.76 without added objects, as in the paper. On seeds 1 and 3 \
                    it does not fall (it even rises a little): with this small encoder and toy the effect is smaller than the \
                    spread between seeds, so one run is not a measurement.",
                show: ("events-add", "the \"add objects\" switch"),
            },
        ],
    },
];

/// Every step of every tutorial, in order.
pub fn all_steps() -> impl Iterator<Item = TutorialStep> {
    TUTORIALS.iter().enumerate().flat_map(|(tutorial, t)| (0..t.steps.len()).map(move |step| TutorialStep { tutorial, step }))
}
