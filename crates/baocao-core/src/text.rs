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

/// Formats a number the Vietnamese way: dot for thousands, comma for
/// decimals (`1.234.567,8`), with `decimals` digits after the comma.
pub fn format_number(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 1);
    if value < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// Reads a number typed the Vietnamese way (`1.234,5`) or the interchange
/// way (`1234.5`) into the interchange form. A lone dot followed by three
/// digits is a thousands separator (`1.234` is one thousand two hundred and
/// thirty-four), as officials write it.
pub fn parse_vn_number(text: &str) -> String {
    let t = text.trim().replace([' ', '\u{a0}'], "");
    if t.contains(',') {
        return t.replace('.', "").replace(',', ".");
    }
    let groups: Vec<&str> = t.split('.').collect();
    if groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit())) {
        return groups.concat();
    }
    t
}

/// A percentage in Vietnamese notation, `12,5%`.
pub fn format_percent(value: f64, decimals: usize) -> String {
    format!("{}%", format_number(value, decimals))
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
    fn numbers_use_dot_thousands_and_comma_decimals() {
        assert_eq!(format_number(1234567.84, 1), "1.234.567,8");
        assert_eq!(format_number(1234.5, 1), "1.234,5");
        assert_eq!(format_number(999.0, 0), "999");
        assert_eq!(format_number(-1000.0, 0), "-1.000");
        assert_eq!(format_number(-0.01, 1), "0,0");
        assert_eq!(format_percent(12.5, 1), "12,5%");
    }

    #[test]
    fn numbers_typed_the_vietnamese_way() {
        assert_eq!(parse_vn_number("1.234,5"), "1234.5");
        assert_eq!(parse_vn_number("1.234.567"), "1234567");
        assert_eq!(parse_vn_number("12,5"), "12.5");
        assert_eq!(parse_vn_number("12.5"), "12.5");
        assert_eq!(parse_vn_number(" 42 "), "42");
    }

    #[test]
    fn vietnamese_alphabetical_order() {
        let mut names = vec!["Đông", "Dương", "Ân", "Ăn", "An", "Bình", "Ơn", "Ông", "Ốc", "Ô"];
        names.sort_by(|a, b| compare_vi(a, b));
        assert_eq!(names, ["An", "Ăn", "Ân", "Bình", "Dương", "Đông", "Ô", "Ốc", "Ông", "Ơn"]);
    }
}
