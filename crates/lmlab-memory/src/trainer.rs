//! Training from token sequences, and incremental training of an existing model.

use crate::instances::Instances;
use crate::model::MemoryModel;
use crate::options::MemoryOptions;
use crate::tree::Tree;
use crate::weights::{gain_ratio, order_by_weight};
use lmlab_core::model::TokenSequence;
use lmlab_core::{Error, Result, Tokenizer};

/// Builds the instances of `sequences` (each token predicted from the `K` before it, `<s>`
/// padding at the start of each sequence), weights the features by gain ratio, orders them and
/// stores the instances in the trie.
pub fn train(
    sequences: &[TokenSequence],
    tokenizer: Box<dyn Tokenizer>,
    options: MemoryOptions,
) -> Result<MemoryModel> {
    options.validate()?;
    check_sequences(sequences, tokenizer.as_ref(), options.context)?;
    let mut instances = Instances::new(options.context);
    instances.extend_from_sequences(sequences, tokenizer.specials().bos);
    let mut first_seen = Vec::new();
    note_first_seen(&instances.classes, tokenizer.vocab().len(), &mut first_seen);
    let (weights, tree) = fit(&options, &instances);
    Ok(MemoryModel::assemble(
        tokenizer, options, weights, tree, first_seen,
    ))
}

/// Checks that there are tokens, that some sequence is at least `K` tokens long, that every id is
/// in the vocabulary and that the instance count fits.
fn check_sequences(sequences: &[TokenSequence], tokenizer: &dyn Tokenizer, k: usize) -> Result<()> {
    let total: usize = sequences.iter().map(|s| s.ids.len()).sum();
    if total == 0 {
        return Err(Error::invalid("the training corpus has no tokens"));
    }
    let longest = sequences.iter().map(|s| s.ids.len()).max().unwrap_or(0);
    if k > longest {
        return Err(Error::invalid(format!(
            "--context {k} is longer than every training sequence (the longest has {longest} \
             tokens, counting its end token); use a smaller context or --sequences stream"
        )));
    }
    let vocab = tokenizer.vocab().len();
    if let Some(bad) = sequences
        .iter()
        .flat_map(|s| &s.ids)
        .find(|&&id| id as usize >= vocab)
    {
        return Err(Error::invalid(format!(
            "token id {bad} is outside the tokenizer's vocabulary of {vocab}"
        )));
    }
    if total > u32::MAX as usize / 2 {
        return Err(Error::invalid(format!(
            "{total} training tokens are more than a memory model holds ({})",
            u32::MAX / 2
        )));
    }
    Ok(())
}

/// Appends the classes not yet in `first_seen`, in order of appearance.
fn note_first_seen(classes: &[u32], vocab: usize, first_seen: &mut Vec<u32>) {
    let mut seen = vec![false; vocab];
    for &c in first_seen.iter() {
        seen[c as usize] = true;
    }
    for &c in classes {
        if !seen[c as usize] {
            seen[c as usize] = true;
            first_seen.push(c);
        }
    }
}

/// Weights, orders and stores `instances`: the gain ratio of every position and the trie.
fn fit(options: &MemoryOptions, instances: &Instances) -> (Vec<f64>, Tree) {
    let weights: Vec<f64> = instances
        .columns
        .iter()
        .map(|column| gain_ratio(column, &instances.classes, &instances.counts))
        .collect();
    let order = order_by_weight(&weights);
    let mut tree = Tree::build(instances, &order);
    if options.prune {
        tree.prune_unambiguous();
    }
    (weights, tree)
}

impl MemoryModel {
    /// Adds the instances of `sequences` to the model without the original corpus: the stored
    /// instances (the trie's leaves, with their counts) and the new ones are re-weighted and the
    /// trie rebuilt, so the result equals training on the old and new sequences together. A pruned
    /// model has lost its leaves and is refused.
    pub fn add(&mut self, sequences: &[TokenSequence]) -> Result<()> {
        if self.options.prune {
            return Err(Error::invalid(
                "this memory model was pruned: incremental training needs an unpruned model \
                 (train without --prune)",
            ));
        }
        check_sequences(sequences, self.tokenizer.as_ref(), self.options.context)?;
        let mut instances = self.stored_instances();
        let old = instances.len();
        instances.extend_from_sequences(sequences, self.tokenizer.specials().bos);
        if old + instances.len() > u32::MAX as usize / 2 {
            return Err(Error::invalid(
                "the model would hold more instances than fit",
            ));
        }
        note_first_seen(
            &instances.classes[old..],
            self.tokenizer.vocab().len(),
            &mut self.first_seen,
        );
        let (weights, tree) = fit(&self.options, &instances);
        self.weights = weights;
        self.tree = tree;
        self.derive();
        Ok(())
    }

    /// The stored instances: one weighted row per (full context, class) of the trie's leaves.
    pub(crate) fn stored_instances(&self) -> Instances {
        let tree = &self.tree;
        let k = tree.depth();
        // parent[d][j]: the parent (at depth d - 1) of node j at depth d.
        let mut parents: Vec<Vec<u32>> = vec![Vec::new()];
        for d in 1..=k {
            let upper = &tree.levels[d - 1];
            let mut parent = vec![0u32; tree.levels[d].len()];
            for i in 0..upper.len() {
                let (s, e) = (
                    upper.child_start[i] as usize,
                    upper.child_start[i + 1] as usize,
                );
                parent[s..e].iter_mut().for_each(|p| *p = i as u32);
            }
            parents.push(parent);
        }
        let mut instances = Instances::new(k);
        let mut context = vec![0u32; k];
        let leaves = &tree.levels[k];
        for leaf in 0..leaves.len() {
            let mut node = leaf;
            for d in (1..=k).rev() {
                context[tree.order[d - 1]] = tree.levels[d].keys[node];
                node = parents[d][node] as usize;
            }
            let (classes, counts) = leaves.distribution(leaf);
            for (&c, &n) in classes.iter().zip(counts) {
                instances.push(&context, c, n);
            }
        }
        instances
    }
}
