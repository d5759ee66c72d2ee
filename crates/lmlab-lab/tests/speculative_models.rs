//! Speculative decoding over real model families sharing one tokenizer (a transformer and an LSTM
//! with seeded random weights, a KN trigram, an IGTree, a bigram baseline), and the allocation count
//! of generation: nothing is allocated per generated token once the steppers have grown.
//!
//! Every allocation is counted per thread (a counting global allocator); the allocation test reads
//! its own thread's count only. The tests of this file still take one lock and never overlap.

use lmlab_core::model::encode_corpus;
use lmlab_core::sampling::{fit_prompt, generate, SamplingOptions};
use lmlab_core::speculative::generate_speculative;
use lmlab_core::{LanguageModel, SequenceMode, TokenId, Tokenizer};
use lmlab_tokenize::{WordsTokenizer, WordsTrainer};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;

struct Counting;

thread_local! {
    /// Allocations made by this thread. Only the test's own thread is read, so the test harness's
    /// other threads (and rayon's workers between tests) cannot move the count under load.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one allocation on the calling thread (nothing once its thread-locals are gone).
fn count_one() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One test at a time: the allocation counter is the whole process's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const TEXT: &str = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog ran\n\
the cat ran to the dog\na dog sat on a mat\nthe log was on the mat\n";

fn tokenizer() -> WordsTokenizer {
    WordsTrainer::default().train(TEXT).unwrap()
}

/// A neural model of `arch` with seeded random weights over the words of [`TEXT`].
fn neural(arch: &str, layers: usize, block: usize) -> Box<dyn lmlab_neural::NeuralLm> {
    let tok = tokenizer();
    let mut config = lmlab_neural::RunConfig::parse(&format!(
        "tokenizer = \"chars\"\n[model]\narch = \"{arch}\"\nn_layer = {layers}\nn_head = 2\n\
         n_embd = 16\nblock_size = {block}\n[train]\nbatch_size = 1\nmax_steps = 1\n\
         learning_rate = 1e-3\nmin_lr = 1e-4\neval_interval = 1\neval_iters = 1\n\
         checkpoint_interval = 1\n"
    ))
    .unwrap();
    config.model.vocab_size = tok.vocab().len();
    let params = match arch {
        "lstm" => {
            lmlab_neural::model::LstmNet::<f32>::new(&config.model, 3)
                .unwrap()
                .params
        }
        _ => {
            lmlab_neural::model::Transformer::<f32>::new(&config.model, 3)
                .unwrap()
                .params
        }
    };
    lmlab_neural::lm::model_from_parts(config, params, Box::new(tok), 0).unwrap()
}

/// The count-based and memory-based models of [`TEXT`]: baseline, KN trigram, IGTree.
fn counted() -> Vec<Box<dyn LanguageModel>> {
    let tok = tokenizer();
    let seqs = encode_corpus(&tok, TEXT, SequenceMode::Line);
    let ngram = lmlab_ngram::NgramOptions {
        order: 3,
        discount_fallback: Some(lmlab_ngram::DEFAULT_FALLBACK),
        ..lmlab_ngram::NgramOptions::default()
    };
    vec![
        Box::new(
            lmlab_baseline::train(
                &seqs,
                Box::new(tok.clone()),
                lmlab_baseline::Smoothing::WittenBell,
            )
            .unwrap(),
        ),
        Box::new(lmlab_ngram::train(&seqs, Box::new(tok.clone()), &ngram).unwrap()),
        Box::new(
            lmlab_memory::train(&seqs, Box::new(tok), lmlab_memory::MemoryOptions::igtree(2))
                .unwrap(),
        ),
    ]
}

fn options(seed: u64, max_tokens: usize, temperature: f64) -> SamplingOptions {
    SamplingOptions {
        seed,
        max_tokens,
        temperature,
        stop_at_eos: false,
        ..SamplingOptions::default()
    }
}

#[test]
fn greedy_speculative_output_is_the_targets_for_every_draft_family() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let target = neural("transformer", 2, 32);
    let mut drafts = counted();
    drafts.push(neural("lstm", 1, 32));
    drafts.push(neural("transformer", 1, 32));
    let prompt = target.tokenizer().encode("the cat");
    let greedy = options(0, 40, 0.0);
    let alone = generate(target.as_ref(), &prompt, &greedy).unwrap();
    assert_eq!(alone.len(), 40, "past the window of 32 positions");
    for draft in &drafts {
        for k in [1, 3, 6] {
            let (fast, stats) =
                generate_speculative(target.as_ref(), draft.as_ref(), &prompt, &greedy, k).unwrap();
            assert_eq!(fast, alone, "draft {} K {k}", draft.kind());
            assert!(stats.target_calls < 40 || stats.accepted == 0);
        }
    }
    // A window of 12 positions: proposals cross a window boundary every 6 tokens and are cut back
    // across it (the stepper keeps the window it left and takes it up again).
    let small = neural("transformer", 2, 12);
    let long = options(0, 60, 0.0);
    let alone = generate(small.as_ref(), &prompt, &long).unwrap();
    for draft in &drafts {
        for k in [2, 5, 9] {
            let (fast, _) =
                generate_speculative(small.as_ref(), draft.as_ref(), &prompt, &long, k).unwrap();
            assert_eq!(fast, alone, "window 12, draft {} K {k}", draft.kind());
        }
    }
    // Sampling runs for every pair and gives full-length output with the same seed's stats.
    for draft in &drafts {
        let o = options(5, 30, 0.9);
        let (a, sa) =
            generate_speculative(target.as_ref(), draft.as_ref(), &prompt, &o, 4).unwrap();
        let (b, sb) =
            generate_speculative(target.as_ref(), draft.as_ref(), &prompt, &o, 4).unwrap();
        assert_eq!((a.len(), &a, sa), (30, &b, sb), "same seed, same output");
    }
}

#[test]
fn a_prompt_longer_than_the_window_keeps_its_end() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let model = neural("transformer", 1, 8);
    let ids: Vec<TokenId> = model
        .tokenizer()
        .encode(&"the cat sat on the mat ".repeat(3));
    let (kept, dropped) = fit_prompt(model.as_ref(), &ids);
    assert_eq!((kept.len(), dropped), (7, ids.len() - 7));
    assert_eq!(kept, &ids[ids.len() - 7..]);
    let short = &ids[..3];
    assert_eq!(fit_prompt(model.as_ref(), short), (short, 0));
    let baseline = &counted()[0];
    assert_eq!(fit_prompt(baseline.as_ref(), &ids).1, 0, "no window");
}

/// Allocations made by `run` on this thread.
fn allocations(run: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    run();
    ALLOCATIONS.with(Cell::get) - before
}

/// Generated tokens of the short and the long runs compared by the allocation test.
const SHORT: usize = 16;
const LONG: usize = 160;
/// More allocations the long run may make: buffers sized by what sampling meets (the candidates of
/// the largest distribution so far, a memory model's deepest match path) can grow to a higher mark
/// a few times; one allocation per token would be 144 more.
const SLACK: u64 = 8;

#[test]
fn generating_more_tokens_allocates_nothing_more() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Rayon's pool starts before counting (its threads allocate once).
    rayon::broadcast(|_| ());
    assert_eq!(
        allocations(|| drop(std::hint::black_box(vec![0u8; 64]))),
        1,
        "the counter counts"
    );
    let mut models = counted();
    models.push(neural("transformer", 2, 256));
    models.push(neural("lstm", 1, 256));
    let prompt = models[0].tokenizer().encode("the cat");
    for model in &models {
        let count = |n| {
            allocations(|| {
                generate(model.as_ref(), &prompt, &options(1, n, 1.0)).unwrap();
            })
        };
        // The first generation makes what a model makes once (a transformer packs its weights
        // for steps); the counts compare the runs after it.
        count(1);
        let (short, long) = (count(8), count(48));
        assert_eq!(
            short,
            long,
            "{}: {short} allocations for 8 tokens, {long} for 48",
            model.kind()
        );
    }
    // Speculative decoding: drafts stepping one token, targets scoring proposals (the transformer's
    // in one forward pass over their positions).
    let n = models.len();
    for (t, d) in [(1, 2), (2, 0), (n - 2, 1), (n - 1, 0), (0, n - 1)] {
        let (target, draft) = (models[t].as_ref(), models[d].as_ref());
        let count = |max| {
            allocations(|| {
                generate_speculative(target, draft, &prompt, &options(2, max, 1.0), 3).unwrap();
            })
        };
        let (short, long) = (count(SHORT), count(LONG));
        assert!(
            long <= short + SLACK,
            "{} drafting for {}: {short} allocations for {SHORT} tokens, {long} for {LONG}",
            draft.kind(),
            target.kind()
        );
    }
}

/// The distribution after `context` from a stepper that was given only `context`.
fn fresh_distribution(model: &dyn LanguageModel, context: &[TokenId]) -> Vec<f64> {
    let mut s = model.stepper();
    context.iter().for_each(|&t| s.push(t));
    let mut out = vec![0.0; s.vocab_len()];
    s.distribution_into(&mut out);
    out
}

#[test]
fn proposals_crossing_a_window_boundary_and_cut_back_score_as_a_fresh_stepper() {
    // A transformer with a window of 8 positions (windows move by 4): each round proposes three
    // true tokens and three wrong ones, keeps 0-3 of them and pushes the true next token, as
    // speculative decoding does, so proposals keep crossing window boundaries and being cut back
    // across them (every other round the distribution is asked for right after the cut). Every
    // distribution must be the one a fresh stepper gives for the same context, bit for bit.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let model = neural("transformer", 2, 8);
    let text = model
        .tokenizer()
        .encode(&"the cat sat on the mat the dog ran to a log ".repeat(4));
    let mut s = model.stepper();
    let v = s.vocab_len();
    let mut out = vec![0.0; 7 * v];
    let mut len = 0;
    let mut round = 0;
    while len + 8 < text.len() {
        let proposal: Vec<TokenId> = text[len..len + 3]
            .iter()
            .chain(&text[len + 5..len + 8])
            .copied()
            .collect();
        s.score_proposed(&proposal, &mut out);
        for r in 0..4 {
            let context: Vec<TokenId> = text[..len].iter().chain(&proposal[..r]).copied().collect();
            let want = fresh_distribution(model.as_ref(), &context);
            assert_eq!(
                &out[r * v..(r + 1) * v],
                &want[..],
                "round {round}, row {r}"
            );
        }
        let kept = round % 4;
        s.truncate(len + kept);
        if round % 2 == 0 {
            // Asked for right after the cut: the kept row's probabilities are fed again.
            let mut got = vec![0.0; v];
            s.distribution_into(&mut got);
            let want = fresh_distribution(model.as_ref(), &text[..len + kept]);
            assert_eq!(got, want, "right after the cut of round {round}");
        }
        s.push(text[len + kept]);
        len += kept + 1;
        round += 1;
        let mut got = vec![0.0; v];
        s.distribution_into(&mut got);
        assert_eq!(
            got,
            fresh_distribution(model.as_ref(), &text[..len]),
            "after round {round}"
        );
    }
    assert!(round > 10 && len > 16, "several windows crossed");
}
