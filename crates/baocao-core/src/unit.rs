//! Administrative units and their versions.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::date::Validity;

/// The kind of an administrative unit, spelled as in the national lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UnitKind {
    /// tỉnh
    #[serde(rename = "tỉnh")]
    Province,
    /// thành phố trực thuộc trung ương
    #[serde(rename = "thành phố trung ương")]
    CentralCity,
    /// thành phố thuộc tỉnh (a district-level city before 2025-07-01)
    #[serde(rename = "thành phố")]
    ProvincialCity,
    /// quận
    #[serde(rename = "quận")]
    UrbanDistrict,
    /// huyện
    #[serde(rename = "huyện")]
    RuralDistrict,
    /// thị xã
    #[serde(rename = "thị xã")]
    Town,
    /// xã
    #[serde(rename = "xã")]
    Commune,
    /// phường
    #[serde(rename = "phường")]
    Ward,
    /// thị trấn
    #[serde(rename = "thị trấn")]
    Township,
    /// đặc khu
    #[serde(rename = "đặc khu")]
    SpecialZone,
    /// An agency (cơ quan: a department, a people's committee…) that
    /// reports like a unit. Not an administrative unit: never in
    /// [`UnitKind::ALL`], never part of a unit's subtree or its totals
    /// (see [`UnitVersion::agency`]).
    #[serde(rename = "cơ quan")]
    Agency,
}

impl UnitKind {
    pub const ALL: [UnitKind; 10] = [
        UnitKind::Province,
        UnitKind::CentralCity,
        UnitKind::ProvincialCity,
        UnitKind::UrbanDistrict,
        UnitKind::RuralDistrict,
        UnitKind::Town,
        UnitKind::Commune,
        UnitKind::Ward,
        UnitKind::Township,
        UnitKind::SpecialZone,
    ];

    /// The Vietnamese name used in the national lists and in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "tỉnh",
            UnitKind::CentralCity => "thành phố trung ương",
            UnitKind::ProvincialCity => "thành phố",
            UnitKind::UrbanDistrict => "quận",
            UnitKind::RuralDistrict => "huyện",
            UnitKind::Town => "thị xã",
            UnitKind::Commune => "xã",
            UnitKind::Ward => "phường",
            UnitKind::Township => "thị trấn",
            UnitKind::SpecialZone => "đặc khu",
            UnitKind::Agency => "cơ quan",
        }
    }

    /// Province-level kinds are the roots of the hierarchy.
    pub fn is_province_level(self) -> bool {
        matches!(self, UnitKind::Province | UnitKind::CentralCity)
    }

    /// The word that starts a unit's full name ("Xã Ngọk Bay"); stripped for
    /// alphabetical ordering so that wards and communes interleave by name.
    pub fn name_prefix(self) -> &'static str {
        match self {
            UnitKind::Province => "Tỉnh",
            UnitKind::CentralCity | UnitKind::ProvincialCity => "Thành phố",
            UnitKind::UrbanDistrict => "Quận",
            UnitKind::RuralDistrict => "Huyện",
            UnitKind::Town => "Thị xã",
            UnitKind::Commune => "Xã",
            UnitKind::Ward => "Phường",
            UnitKind::Township => "Thị trấn",
            UnitKind::SpecialZone => "Đặc khu",
            UnitKind::Agency => "",
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UnitKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let agency = UnitKind::Agency;
        let find = |wanted: &str| UnitKind::ALL.into_iter().chain([agency]).find(|k| k.as_str() == wanted);
        // Lists write kinds in lower case; only the others pay for lowering.
        find(s.trim()).or_else(|| find(&s.trim().to_lowercase())).ok_or_else(|| {
            let names: Vec<_> = UnitKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("loại đơn vị «{}» không có: cần một trong {}", s.trim(), names.join(", "))
        })
    }
}

/// Identity of a unit version: a code is reused over time, so the code alone
/// is not enough; the start of validity tells versions of one code apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VersionKey {
    pub code: String,
    pub valid_from: Option<NaiveDate>,
}

/// One version of an administrative unit, in force over `validity`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitVersion {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// Depth in the hierarchy of its day: 1 for provinces; communes are 3
    /// before 2025-07-01 and 2 after, as in the national lists.
    pub level: u8,
    pub parent_code: Option<String>,
    #[serde(flatten)]
    pub validity: Validity,
    /// Why the unit ended without a successor (an archive decision), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_note: Option<String>,
    /// For an agency that reports ([`UnitKind::Agency`]): its kind as the
    /// province names it and the area it serves. Its parent is the agency
    /// it belongs to, if any: agencies form their own tree, beside the
    /// units', so that no total of an area ever counts an agency's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencyTraits>,
}

/// What a reporting agency is besides a reporting body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyTraits {
    /// sở, ban, UBND xã…: free text, as the province names them.
    pub kind: String,
    /// The administrative unit it serves (its area of responsibility).
    pub area: Option<String>,
}

impl UnitVersion {
    pub fn key(&self) -> VersionKey {
        VersionKey { code: self.code.clone(), valid_from: self.validity.from }
    }

    /// The name without its kind word, used as the primary sort key.
    pub fn short_name(&self) -> &str {
        self.name
            .strip_prefix(self.kind.name_prefix())
            .map(str::trim_start)
            .filter(|rest| !rest.is_empty())
            .unwrap_or(&self.name)
    }
}

/// A unit as in force on a day, with every version of its code.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitDetail {
    #[serde(flatten)]
    pub unit: UnitVersion,
    /// Every version of the code, oldest first.
    pub versions: Vec<UnitVersion>,
}

impl UnitDetail {
    /// Picks the version of `code` in force on `day` from its history.
    pub fn at(code: &str, versions: Vec<UnitVersion>, day: NaiveDate) -> Result<UnitDetail, crate::RegistryError> {
        if versions.is_empty() {
            return Err(crate::RegistryError::UnknownCode(code.to_string()));
        }
        let unit = versions
            .iter()
            .find(|v| v.validity.contains(day))
            .cloned()
            .ok_or_else(|| crate::RegistryError::NotInForce { code: code.to_string(), day })?;
        Ok(UnitDetail { unit, versions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_vietnamese_names() {
        for kind in UnitKind::ALL {
            assert_eq!(kind.as_str().parse::<UnitKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!("Xã".parse::<UnitKind>().unwrap(), UnitKind::Commune);
        let err = "quan".parse::<UnitKind>().unwrap_err();
        assert!(err.contains("quan") && err.contains("quận"), "{err}");
    }

    #[test]
    fn short_name_strips_the_kind_word() {
        let unit = UnitVersion {
            code: "23317".into(),
            name: "Xã Ngọk Bay".into(),
            kind: UnitKind::Commune,
            level: 2,
            parent_code: Some("51".into()),
            validity: Validity::default(),
            archive_note: None,
            agency: None,
        };
        assert_eq!(unit.short_name(), "Ngọk Bay");
    }
}
