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

/// The decimals a figure is shown with: none for a whole number, else
/// one (how pages, prints and charts show totals).
pub fn figure_decimals(value: f64) -> usize {
    if value.fract() == 0.0 { 0 } else { 1 }
}

/// A figure the Vietnamese way with [`figure_decimals`]: `1.234`, `1.234,5`.
pub fn format_figure(value: f64) -> String {
    format_number(value, figure_decimals(value))
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
    // Spaces (also the no-break and thin ones spreadsheets put between
    // thousands) go; a typographic minus is a minus.
    let t = text.trim().replace([' ', '\u{a0}', '\u{202f}', '\u{2009}'], "").replace('\u{2212}', "-");
    if t.contains(',') {
        return t.replace('.', "").replace(',', ".");
    }
    let groups: Vec<&str> = t.split('.').collect();
    if groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit())) {
        return groups.concat();
    }
    t
}

/// Characters no text people send may hold: control characters (NUL,
/// escape sequences that rewrite a terminal, backspaces that hide what
/// precedes them) and the bidirectional overrides that make a name read
/// otherwise than it is stored. `lines` allows line breaks and tabs, for
/// text that has lines of its own (a reason, a cell of a plan's table).
pub fn forbidden_char(text: &str, lines: bool) -> Option<char> {
    text.chars().find(|&c| {
        let breaks = matches!(c, '\n' | '\r' | '\t');
        (c.is_control() && !(lines && breaks)) || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// [`forbidden_char`] as a refusal naming the character, in Vietnamese.
pub fn check_text(text: &str, lines: bool) -> Result<(), String> {
    match forbidden_char(text, lines) {
        None => Ok(()),
        Some(c) => Err(format!(
            "chứa ký tự điều khiển U+{:04X}, không được phép trong văn bản (control character not allowed)",
            u32::from(c)
        )),
    }
}

/// Checks every string of a value as [`check_text`] does (line breaks
/// allowed), naming the first one refused by its path (`rows[2].label`).
pub fn check_strings<T: serde::Serialize>(value: &T) -> Result<(), String> {
    fn walk(value: &serde_json::Value, path: &mut String) -> Result<(), String> {
        match value {
            serde_json::Value::String(s) => check_text(s, true).map_err(|e| format!("{path}: {e}")),
            serde_json::Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let out = walk(item, path);
                path.truncate(len);
                out
            }),
            serde_json::Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                check_text(key, false).map_err(|e| format!("{path}: {e}"))?;
                let out = walk(item, path);
                path.truncate(len);
                out
            }),
            _ => Ok(()),
        }
    }
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    walk(&value, &mut String::new())
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
        assert_eq!(parse_vn_number("1 250"), "1250");
        assert_eq!(parse_vn_number("1\u{202f}250,5"), "1250.5");
        assert_eq!(parse_vn_number("\u{2212}3"), "-3");
    }

    #[test]
    fn control_characters_and_direction_overrides_are_refused() {
        assert_eq!(forbidden_char("Nguyễn Văn A", false), None);
        assert_eq!(forbidden_char("a\u{0}b", true), Some('\u{0}'));
        assert_eq!(forbidden_char("\u{1b}[2J", true), Some('\u{1b}'));
        assert_eq!(forbidden_char("gnp.exe\u{202e}", false), Some('\u{202e}'));
        assert_eq!(forbidden_char("dòng 1\ndòng 2", true), None);
        assert_eq!(forbidden_char("dòng 1\ndòng 2", false), Some('\n'));
        assert!(check_text("x\u{7}", true).unwrap_err().contains("U+0007"));
        #[derive(serde::Serialize)]
        struct Row {
            label: String,
        }
        let rows = vec![Row { label: "ổn".into() }, Row { label: "hỏng\u{8}".into() }];
        assert!(check_strings(&rows).unwrap_err().starts_with("[1].label: "));
    }

    #[test]
    fn vietnamese_alphabetical_order() {
        let mut names = vec!["Đông", "Dương", "Ân", "Ăn", "An", "Bình", "Ơn", "Ông", "Ốc", "Ô"];
        names.sort_by(|a, b| compare_vi(a, b));
        assert_eq!(names, ["An", "Ăn", "Ân", "Bình", "Dương", "Đông", "Ô", "Ốc", "Ông", "Ơn"]);
    }
}
