//! Vietnamese text: diacritic-insensitive matching and alphabetical order.

use std::cmp::Ordering;
use std::sync::LazyLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use icu_locale::locale;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for searching: lower case, without tone marks or other
/// diacritics, `đ` as `d`, runs of white space as one space.
///
/// Officials often type names without diacritics ("ngok bay"), and data
/// arrives in both precomposed and decomposed Unicode; folding makes all of
/// them compare equal.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// True when every word of `query` starts some word of `folded_name`
/// (already folded with [`fold`]): "ngok bay", "NGỌK BAY" and "Ngọk" all
/// find "Xã Ngọk Bay".
pub fn matches_word_prefixes(folded_name: &str, query: &str) -> bool {
    let query = fold(query);
    let words: Vec<&str> = folded_name.split(' ').collect();
    let mut any = false;
    for q in query.split(' ').filter(|q| !q.is_empty()) {
        any = true;
        if !words.iter().any(|w| w.starts_with(q)) {
            return false;
        }
    }
    any
}

static COLLATOR: LazyLock<CollatorBorrowed<'static>> = LazyLock::new(|| {
    Collator::try_new(locale!("vi").into(), CollatorOptions::default())
        .expect("the Vietnamese collation is compiled into icu_collator")
});

/// Compares two strings in Vietnamese alphabetical order
/// (a ă â b c d đ e ê …, tones after letters), not by bytes.
pub fn compare_vi(a: &str, b: &str) -> Ordering {
    COLLATOR.compare(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_tones_and_maps_d_stroke() {
        assert_eq!(fold("Xã Ngọk Bay"), "xa ngok bay");
        assert_eq!(fold("  ĐẶC   KHU  Lý Sơn "), "dac khu ly son");
        // Decomposed input (NFD) folds the same as precomposed input.
        assert_eq!(fold("Ngo\u{323}k"), fold("Ngọk"));
    }

    #[test]
    fn word_prefix_search() {
        let name = fold("Xã Ngọk Bay");
        for q in ["ngok bay", "NGỌK BAY", "Ngọk", "bay ngo", "xa ng"] {
            assert!(matches_word_prefixes(&name, q), "{q}");
        }
        for q in ["gok", "ngok bai", "", "   "] {
            assert!(!matches_word_prefixes(&name, q), "{q}");
        }
    }

    #[test]
    fn vietnamese_alphabetical_order() {
        let mut names = vec!["Đông", "Dương", "Ân", "Ăn", "An", "Bình", "Ơn", "Ông", "Ốc", "Ô"];
        names.sort_by(|a, b| compare_vi(a, b));
        assert_eq!(names, ["An", "Ăn", "Ân", "Bình", "Dương", "Đông", "Ô", "Ốc", "Ông", "Ơn"]);
    }
}
