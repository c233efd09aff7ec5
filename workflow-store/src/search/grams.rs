//! What the keyword index holds of a text, and what a searched word asks it.
//!
//! Chinese has no spaces between words, and a word segmenter (jieba) cuts a text into the
//! words its dictionary knows: a search for a part of a word, a name it does not know or a
//! 文号 such as `校发〔2026〕` can then find nothing although the text holds it. A search
//! must find every document holding the typed characters (substring matching is the floor,
//! DESIGN §13), so the index holds each text's overlapping pairs of characters, each at its
//! place, and its single characters: a word of two or more characters is the phrase of its
//! pairs at consecutive places, one character is a term of its own. That is exactly "the
//! text holds the word", as Lucene's CJK analyser has it, for Latin letters and digits too.
//! Pairs with a space in them are left out (a searched word never holds one); a field's
//! values are indexed apart, so a word never spans two of them.

use tantivy::Term;
use tantivy::query::{PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The tokenizer's name for pairs of characters.
pub(super) const PAIRS: &str = "wf_pairs";
/// The tokenizer's name for single characters.
pub(super) const SINGLES: &str = "wf_singles";

/// A text's runs of `n` characters (lowercased), each at the place of its first character.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grams(pub(super) usize);

/// The runs of one text, computed at once.
#[derive(Debug)]
pub(super) struct GramStream {
    tokens: Vec<Token>,
    /// How many tokens `advance` has passed (the current one is the one before).
    passed: usize,
}

impl Tokenizer for Grams {
    type TokenStream<'a> = GramStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> GramStream {
        GramStream {
            tokens: grams(text, self.0),
            passed: 0,
        }
    }
}

/// The runs of `n` characters of `text`, lowercased, without those holding white space.
fn grams(text: &str, n: usize) -> Vec<Token> {
    let lower = text.to_lowercase();
    let chars: Vec<(usize, char)> = lower.char_indices().collect();
    let mut tokens = Vec::new();
    for (place, run) in chars.windows(n.max(1)).enumerate() {
        if run.iter().any(|(_, c)| c.is_whitespace()) {
            continue;
        }
        let (Some((from, _)), Some((last, c))) = (run.first(), run.last()) else {
            continue;
        };
        let to = last + c.len_utf8();
        tokens.push(Token {
            offset_from: *from,
            offset_to: to,
            position: place,
            text: lower.get(*from..to).unwrap_or_default().to_owned(),
            position_length: 1,
        });
    }
    tokens
}

impl TokenStream for GramStream {
    fn advance(&mut self) -> bool {
        if self.passed < self.tokens.len() {
            self.passed += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        // tantivy asks for the token only after `advance` said there is one.
        &self.tokens[self.passed.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.passed.saturating_sub(1)]
    }
}

/// The terms of one searched word (lowercased, without white space): its pairs of
/// characters in order, or its one character.
pub(super) fn word_terms(pairs: Field, singles: Field, word: &str) -> Vec<Term> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() == 1 {
        return vec![Term::from_field_text(singles, word)];
    }
    chars
        .windows(2)
        .map(|w| Term::from_field_text(pairs, &w.iter().collect::<String>()))
        .collect()
}

/// The query for one searched word's terms: documents whose text holds the word (its pairs
/// at consecutive places). `None` for an empty word.
pub(super) fn word_query(mut terms: Vec<Term>) -> Option<Box<dyn Query>> {
    match terms.len() {
        0 => None,
        1 => Some(Box::new(TermQuery::new(
            terms.remove(0),
            IndexRecordOption::Basic,
        ))),
        _ => Some(Box::new(PhraseQuery::new(terms))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, n: usize) -> Vec<(usize, String)> {
        grams(text, n)
            .into_iter()
            .map(|t| (t.position, t.text))
            .collect()
    }

    #[test]
    fn pairs_keep_their_places_and_skip_white_space() {
        assert_eq!(
            texts("校发 Ab", 2),
            vec![(0, "校发".to_owned()), (3, "ab".to_owned())]
        );
        assert_eq!(
            texts("〔2026〕", 1)
                .into_iter()
                .map(|(_, t)| t)
                .collect::<Vec<_>>(),
            ["〔", "2", "0", "2", "6", "〕"]
        );
        assert!(texts("校", 2).is_empty());
    }
}
