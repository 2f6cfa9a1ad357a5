//! SCIM filters (RFC 7644 §3.4.2.2) as the RFC writes them: `and`, `or`,
//! `not`, parentheses and precedence, every comparison operator, `pr`, and
//! complex filters on multi-valued attributes (`emails[type eq "work"]`).
//!
//! The grammar is parsed by kanidm's `scim_proto`; this module adapts the
//! text to it (operators and attribute names are case-insensitive in the
//! RFC and may carry their schema's URN, which the grammar does not allow)
//! and evaluates the result against a resource as it is answered (its
//! JSON), so that a filter sees exactly what a client sees.

use std::cmp::Ordering;

use scim_proto::filter::{ScimComplexFilter, ScimFilter};
use serde_json::Value;

/// Words that are operators wherever they stand outside a quoted value.
const WORDS: [&str; 16] =
    ["and", "or", "not", "eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "pr", "true", "false", "null"];

/// The schema URNs an attribute name may begin with.
const SCHEMAS: [&str; 2] =
    ["urn:ietf:params:scim:schemas:core:2.0:User:", "urn:ietf:params:scim:schemas:core:2.0:Group:"];

/// Attributes whose values compare case-sensitively (RFC 7643 §4.1, §3.1).
const CASE_EXACT: [&str; 2] = ["id", "externalid"];

/// The longest filter taken, in bytes.
const LONGEST: usize = 4096;

/// The deepest nesting of parentheses and brackets taken. The grammar
/// counts depth only on its way back, so a filter of ten thousand `(`
/// would exhaust the stack before it is refused: nesting is counted here,
/// before the grammar sees the text.
const DEEPEST: usize = 32;

/// Parses a filter; the error says where it stopped, for `invalidFilter`.
pub fn parse(text: &str) -> Result<ScimFilter, String> {
    if text.len() > LONGEST {
        return Err(format!("a filter of more than {LONGEST} bytes is not taken"));
    }
    let adapted = adapt(text)?;
    adapted.parse::<ScimFilter>().map_err(|e| format!("«{text}» is not a SCIM filter: {e}"))
}

/// The filter's text with operators in lower case and schema URNs taken off
/// attribute names, quoted values left exactly as they are.
fn adapt(text: &str) -> Result<String, String> {
    let mut depth = 0usize;
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let flush = |word: &mut String, out: &mut String| {
        let lower = word.to_ascii_lowercase();
        if WORDS.contains(&lower.as_str()) {
            out.push_str(&lower);
        } else {
            let bare = SCHEMAS
                .iter()
                .find_map(|s| word.get(..s.len()).filter(|p| p.eq_ignore_ascii_case(s)).map(|_| &word[s.len()..]));
            out.push_str(bare.unwrap_or(word));
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                flush(&mut word, &mut out);
                out.push(c);
                while let Some(q) = chars.next() {
                    out.push(q);
                    match q {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            ' ' | '\t' | '\n' | '(' | ')' | '[' | ']' => {
                flush(&mut word, &mut out);
                match c {
                    '(' | '[' => depth += 1,
                    ')' | ']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                if depth > DEEPEST {
                    return Err(format!("a filter nested more than {DEEPEST} deep is not taken"));
                }
                out.push(c);
            }
            _ => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    Ok(out)
}

/// The attributes a filter names (the first part of each path), so that a
/// filter on an attribute the resource type does not have is refused rather
/// than matching nothing.
pub fn attributes(filter: &ScimFilter) -> Vec<String> {
    use ScimFilter as F;
    match filter {
        F::Or(a, b) | F::And(a, b) => {
            let mut names = attributes(a);
            names.extend(attributes(b));
            names
        }
        F::Not(a) => attributes(a),
        F::Complex(name, _) => vec![name.clone()],
        F::Present(p)
        | F::Equal(p, _)
        | F::NotEqual(p, _)
        | F::Contains(p, _)
        | F::StartsWith(p, _)
        | F::EndsWith(p, _)
        | F::Greater(p, _)
        | F::Less(p, _)
        | F::GreaterOrEqual(p, _)
        | F::LessOrEqual(p, _) => {
            let path = p.to_string();
            vec![path.split('.').next().unwrap_or_default().to_string()]
        }
    }
}

/// Whether `resource` (a SCIM resource as answered) passes `filter`. A
/// comparison the RFC does not define (ordering booleans) is an error.
pub fn matches(filter: &ScimFilter, resource: &Value) -> Result<bool, String> {
    use ScimFilter as F;
    Ok(match filter {
        F::Or(a, b) => matches(a, resource)? || matches(b, resource)?,
        F::And(a, b) => matches(a, resource)? && matches(b, resource)?,
        F::Not(a) => !matches(a, resource)?,
        F::Present(path) => values(resource, &path.to_string()).iter().any(|v| present(v)),
        F::Equal(p, v) => any(resource, &p.to_string(), v, Op::Eq)?,
        F::NotEqual(p, v) => !any(resource, &p.to_string(), v, Op::Eq)?,
        F::Contains(p, v) => any(resource, &p.to_string(), v, Op::Co)?,
        F::StartsWith(p, v) => any(resource, &p.to_string(), v, Op::Sw)?,
        F::EndsWith(p, v) => any(resource, &p.to_string(), v, Op::Ew)?,
        F::Greater(p, v) => any(resource, &p.to_string(), v, Op::Gt)?,
        F::Less(p, v) => any(resource, &p.to_string(), v, Op::Lt)?,
        F::GreaterOrEqual(p, v) => any(resource, &p.to_string(), v, Op::Ge)?,
        F::LessOrEqual(p, v) => any(resource, &p.to_string(), v, Op::Le)?,
        F::Complex(attribute, inner) => {
            let mut found = false;
            for element in values(resource, attribute) {
                found |= complex(inner, element)?;
            }
            found
        }
    })
}

/// A complex filter's condition on one value of a multi-valued attribute.
fn complex(filter: &ScimComplexFilter, element: &Value) -> Result<bool, String> {
    use ScimComplexFilter as F;
    Ok(match filter {
        F::Or(a, b) => complex(a, element)? || complex(b, element)?,
        F::And(a, b) => complex(a, element)? && complex(b, element)?,
        F::Not(a) => !complex(a, element)?,
        F::Present(name) => values(element, name).iter().any(|v| present(v)),
        F::Equal(name, v) => any(element, name, v, Op::Eq)?,
        F::NotEqual(name, v) => !any(element, name, v, Op::Eq)?,
        F::Contains(name, v) => any(element, name, v, Op::Co)?,
        F::StartsWith(name, v) => any(element, name, v, Op::Sw)?,
        F::EndsWith(name, v) => any(element, name, v, Op::Ew)?,
        F::Greater(name, v) => any(element, name, v, Op::Gt)?,
        F::Less(name, v) => any(element, name, v, Op::Lt)?,
        F::GreaterOrEqual(name, v) => any(element, name, v, Op::Ge)?,
        F::LessOrEqual(name, v) => any(element, name, v, Op::Le)?,
    })
}

#[derive(Clone, Copy)]
enum Op {
    Eq,
    Co,
    Sw,
    Ew,
    Gt,
    Lt,
    Ge,
    Le,
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// The values at `path` (`name` or `name.sub`, names case-insensitive): a
/// multi-valued attribute gives each of its values.
fn values<'v>(resource: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut current = vec![resource];
    for name in path.split('.') {
        let mut next = Vec::new();
        for value in current {
            let field = value.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)));
            match field.map(|(_, v)| v) {
                Some(Value::Array(items)) => next.extend(items.iter()),
                Some(v) => next.push(v),
                None => {}
            }
        }
        current = next;
    }
    current
}

/// Whether any value at `path` compares with `wanted` as `op` says.
fn any(resource: &Value, path: &str, wanted: &Value, op: Op) -> Result<bool, String> {
    let exact = CASE_EXACT.contains(&path.to_ascii_lowercase().as_str());
    for value in values(resource, path) {
        if compare(value, wanted, op, exact)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn compare(value: &Value, wanted: &Value, op: Op, exact: bool) -> Result<bool, String> {
    let fold = |s: &str| if exact { s.to_string() } else { s.to_lowercase() };
    match (value, wanted) {
        (Value::String(have), Value::String(want)) => {
            let (have, want) = (fold(have), fold(want));
            Ok(match op {
                Op::Eq => have == want,
                Op::Co => have.contains(&want),
                Op::Sw => have.starts_with(&want),
                Op::Ew => have.ends_with(&want),
                Op::Gt => have > want,
                Op::Lt => have < want,
                Op::Ge => have >= want,
                Op::Le => have <= want,
            })
        }
        (Value::Number(have), Value::Number(want)) => {
            let order = have.as_f64().partial_cmp(&want.as_f64()).unwrap_or(Ordering::Equal);
            Ok(match op {
                Op::Eq => order == Ordering::Equal,
                Op::Gt => order == Ordering::Greater,
                Op::Lt => order == Ordering::Less,
                Op::Ge => order != Ordering::Less,
                Op::Le => order != Ordering::Greater,
                Op::Co | Op::Sw | Op::Ew => return Err("co, sw and ew compare text, not numbers".into()),
            })
        }
        (Value::Bool(have), Value::Bool(want)) => match op {
            Op::Eq => Ok(have == want),
            _ => Err("true and false can only be compared with eq or ne".into()),
        },
        // A value of another type than the attribute's never matches.
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "id": "7", "userName": "Nguyen.Van.A@qn.gov.vn", "displayName": "Nguyễn Văn A", "active": true,
            "externalId": "HR-0042",
            "emails": [{ "value": "nguyen.van.a@qn.gov.vn", "type": "work", "primary": true }],
            "meta": { "resourceType": "User" }
        })
    }

    fn check(filter: &str) -> bool {
        matches(&parse(filter).unwrap_or_else(|e| panic!("{e}")), &user()).unwrap()
    }

    #[test]
    fn logical_operators_with_precedence_and_parentheses() {
        assert!(check(r#"userName eq "nguyen.van.a@qn.gov.vn" and active eq true"#));
        assert!(check(r#"userName eq "x" or active eq true"#));
        assert!(!check(r#"userName eq "x" and active eq true"#));
        // `and` binds tighter than `or`.
        assert!(check(r#"active eq false and userName eq "x" or displayName co "văn""#));
        assert!(!check(r#"active eq false and (userName eq "x" or displayName co "văn")"#));
        assert!(check(r#"not (active eq false)"#));
        assert!(check(r#"USERNAME Eq "NGUYEN.VAN.A@QN.GOV.VN" AND Active EQ True"#));
        assert!(check(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "nguyen""#));
    }

    #[test]
    fn comparisons_presence_and_complex_filters() {
        assert!(check(r#"displayName ew "a""#) && check(r#"userName ne "x""#) && check("externalId pr"));
        assert!(!check("nickName pr") && check(r#"nickName ne "x""#));
        let named =
            attributes(&parse(r#"(userName pr or emails[type eq "work"]) and not (meta.created gt "x")"#).unwrap());
        assert_eq!(named, ["userName", "emails", "meta"]);
        assert!(check(r#"externalId eq "HR-0042""#) && !check(r#"externalId eq "hr-0042""#));
        assert!(check(r#"userName gt "a" and userName lt "z""#));
        assert!(check(r#"emails[type eq "work" and value co "@qn.gov.vn"]"#));
        assert!(!check(r#"emails[type eq "home"]"#));
        assert!(check(r#"emails.value ew ".vn""#) && check(r#"meta.resourceType eq "User""#));
        let ordered_booleans = parse("active gt true").unwrap();
        assert!(matches(&ordered_booleans, &user()).is_err());
    }

    #[test]
    fn what_is_not_a_filter_is_refused() {
        for bad in ["", "userName", "userName eq", r#"userName eq "a" and"#, "(active eq true", "userName xx 1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}active eq true{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).is_err());
    }
}
