use crate::model::{BaselineModel, Smoothing};
use crate::{KIND, KIND_VERSION};
use lmlab_core::model_file::{
    write_model_file, ModelFile, ModelHeader, PayloadReader, PayloadWriter, Provenance,
};
use lmlab_core::{Error, LanguageModel, Result};
use std::path::Path;

const WITTEN_BELL: u64 = 0;
const ADD_K: u64 = 1;

impl BaselineModel {
    /// Writes the model file atomically.
    pub fn save(&self, path: &Path, provenance: Provenance) -> Result<()> {
        let header = ModelHeader::new(KIND, KIND_VERSION, self.tokenizer.as_ref(), provenance);
        let mut payload = PayloadWriter::new();
        match self.smoothing {
            Smoothing::WittenBell => {
                payload.u64(WITTEN_BELL);
                payload.f64(0.0);
            }
            Smoothing::AddK { k } => {
                payload.u64(ADD_K);
                payload.f64(k);
            }
        }
        payload.u64_slice(&self.unigram_counts);
        payload.u64_slice(&self.row_start);
        payload.u32_slice(&self.successors);
        payload.u64_slice(&self.bigram_counts);
        write_model_file(path, &header, &payload.finish())
    }

    /// Loads a model file written by [`BaselineModel::save`], checking that its arrays agree.
    pub fn load(path: &Path) -> Result<BaselineModel> {
        let file = ModelFile::open(path)?;
        Self::from_file(&file)
    }

    /// Rebuilds the model from an opened model file.
    pub fn from_file(file: &ModelFile) -> Result<BaselineModel> {
        let path = file.path();
        file.header().require_kind(path, KIND, KIND_VERSION)?;
        let tokenizer = lmlab_tokenize::tokenizer_from_json(&file.header().tokenizer)
            .map_err(|e| Error::bad_file(path, e.to_string()))?;
        let mut r = PayloadReader::new(path, file.payload());
        let smoothing = match (r.u64()?, r.f64()?) {
            (WITTEN_BELL, _) => Smoothing::WittenBell,
            (ADD_K, k) if k > 0.0 => Smoothing::AddK { k },
            (tag, k) => {
                return Err(Error::bad_file(
                    path,
                    format!("unknown smoothing {tag} (k = {k}); the file is corrupted"),
                ))
            }
        };
        let unigram_counts = r.u64_vec()?;
        let row_start = r.u64_vec()?;
        let successors = r.u32_vec()?;
        let bigram_counts = r.u64_vec()?;
        r.finish()?;
        let v = tokenizer.vocab().len();
        let consistent = unigram_counts.len() == v
            && row_start.len() == v + 1
            && row_start.first() == Some(&0)
            && row_start.windows(2).all(|w| w[0] <= w[1])
            && row_start.last() == Some(&(successors.len() as u64))
            && successors.len() == bigram_counts.len()
            && successors.iter().all(|&s| (s as usize) < v);
        if !consistent {
            return Err(Error::bad_file(
                path,
                "baseline arrays disagree with each other or the vocabulary; the file is corrupted",
            ));
        }
        Ok(BaselineModel::from_counts(
            tokenizer,
            smoothing,
            unigram_counts,
            row_start,
            successors,
            bigram_counts,
        ))
    }
}

impl crate::UniformModel {
    /// Writes the model file atomically: the header (with the tokenizer) and an empty payload.
    pub fn save(&self, path: &Path, provenance: Provenance) -> Result<()> {
        let header = ModelHeader::new(
            crate::UNIFORM_KIND,
            crate::UNIFORM_KIND_VERSION,
            self.tokenizer(),
            provenance,
        );
        write_model_file(path, &header, &PayloadWriter::new().finish())
    }

    /// Rebuilds the model from an opened model file.
    pub fn from_file(file: &ModelFile) -> Result<crate::UniformModel> {
        let path = file.path();
        file.header()
            .require_kind(path, crate::UNIFORM_KIND, crate::UNIFORM_KIND_VERSION)?;
        let tokenizer = lmlab_tokenize::tokenizer_from_json(&file.header().tokenizer)
            .map_err(|e| Error::bad_file(path, e.to_string()))?;
        PayloadReader::new(path, file.payload()).finish()?;
        Ok(crate::UniformModel::new(tokenizer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_core::model::encode_corpus;
    use lmlab_core::{LanguageModel, SequenceMode};
    use lmlab_tokenize::WordsTrainer;

    fn provenance() -> Provenance {
        Provenance {
            corpus_sha256: "x".into(),
            corpus_name: "t".into(),
            sequences: SequenceMode::Line,
            options: serde_json::json!({}),
            seed: None,
            lmlab_version: "0".into(),
        }
    }

    #[test]
    fn save_load_round_trip_is_exact_and_deterministic() {
        let text = "a b c\nb c d\n";
        let tok = WordsTrainer::default().train(text).unwrap();
        let seqs = encode_corpus(&tok, text, SequenceMode::Line);
        let model = crate::train(&seqs, Box::new(tok), Smoothing::AddK { k: 0.5 }).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.lmlab"), dir.path().join("b.lmlab"));
        model.save(&a, provenance()).unwrap();
        model.save(&b, provenance()).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let back = BaselineModel::load(&a).unwrap();
        let ids = seqs[1].ids.clone();
        assert_eq!(back.log_probs(&ids), model.log_probs(&ids));
        assert_eq!(back.smoothing(), Smoothing::AddK { k: 0.5 });

        let bytes = std::fs::read(&a).unwrap();
        let cut = dir.path().join("cut.lmlab");
        for len in 0..bytes.len() {
            std::fs::write(&cut, &bytes[..len]).unwrap();
            assert!(
                BaselineModel::load(&cut).is_err(),
                "loaded a file cut at {len}"
            );
        }
    }
}
