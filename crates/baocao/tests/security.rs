//! Every route × every role × scope, sessions, CSRF and lockout, through
//! the HTTP interface.

mod common;

use common::{App, PASSWORD, spawn};

/// Who asks, in the order of the expectations below: nobody, then the
/// fixture's accounts (see `common::PEOPLE`).
const WHO: [Option<&str>; 7] =
    [None, Some("admin"), Some("ngokbay"), Some("sathay"), Some("approver"), Some("viewer"), Some("unitadmin")];

/// A request for one route and the status each of `WHO` must get. Unit
/// scoped requests are about Xã Ngọk Bay (23317), so the officer of Xã Sa
/// Thầy must be refused where Ngọk Bay's own officer is let in.
struct Case {
    method: &'static str,
    route: &'static str,
    url: &'static str,
    body: &'static str,
    expect: [u16; 7],
}

const FORM: &str = "application/x-www-form-urlencoded";
const REPORT: &str = "regime=BC_THANG_TTHC&unit=23317&period=202508";

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { method: "GET", route: "/healthz", url: "/healthz", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/readyz", url: "/readyz", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/metrics", url: "/metrics", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/api/openapi.json", url: "/api/openapi.json", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/app.css", url: "/static/app.css", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/document.css", url: "/static/document.css", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/htmx.min.js", url: "/static/htmx.min.js", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/picker.js", url: "/static/picker.js", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/chart-png.js", url: "/static/chart-png.js", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/offline.js", url: "/static/offline.js", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/pwa.js", url: "/static/pwa.js", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/icon-192.png", url: "/static/icon-192.png", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/static/icon-512.png", url: "/static/icon-512.png", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/sw.js", url: "/sw.js", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/manifest.webmanifest", url: "/manifest.webmanifest", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/offline", url: "/offline", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/login", url: "/login", body: "", expect: [200; 7] },
    Case { method: "POST", route: "/login", url: "/login", body: "username=nobody&password=wrong", expect: [401; 7] },
    Case { method: "POST", route: "/logout", url: "/logout", body: "", expect: [303; 7] },
    // The second step of signing in: without a sign-in waiting for its code, sent back to sign in.
    Case { method: "GET", route: "/login/code", url: "/login/code", body: "", expect: [200; 7] },
    Case { method: "POST", route: "/login/code", url: "/login/code", body: "code=123456", expect: [401; 7] },
    Case { method: "GET", route: "/account/security", url: "/account/security", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "POST", route: "/account/security/totp", url: "/account/security/totp", body: "code=000000", expect: [303, 400, 400, 400, 400, 400, 400] },
    Case { method: "POST", route: "/admin/accounts/password-sign-in", url: "/admin/accounts/password-sign-in", body: "username=khong-co&allowed=false", expect: [303, 404, 403, 403, 403, 403, 404] },
    // Single sign-on: not set up in the fixture, so not found for anyone.
    Case { method: "GET", route: "/login/sso", url: "/login/sso", body: "", expect: [404; 7] },
    Case { method: "GET", route: "/login/sso/callback", url: "/login/sso/callback?code=x&state=y", body: "", expect: [404; 7] },
    Case { method: "POST", route: "/admin/accounts/second-factor", url: "/admin/accounts/second-factor", body: "username=khong-co", expect: [303, 404, 403, 403, 403, 403, 404] },
    // One-time links: open to anyone, an unknown token refused alike; «forgot» answers the same for everyone.
    Case { method: "GET", route: "/forgot", url: "/forgot", body: "", expect: [200; 7] },
    Case { method: "POST", route: "/forgot", url: "/forgot", body: "who=khong-co", expect: [200; 7] },
    Case { method: "GET", route: "/activate", url: "/activate?token=khong-co", body: "", expect: [410; 7] },
    Case { method: "POST", route: "/activate", url: "/activate", body: "token=khong-co&password=ngua+vang+qua+cau&confirm=ngua+vang+qua+cau", expect: [410; 7] },
    Case { method: "GET", route: "/reset", url: "/reset?token=khong-co", body: "", expect: [410; 7] },
    Case { method: "POST", route: "/reset", url: "/reset", body: "token=khong-co&password=ngua+vang+qua+cau&confirm=ngua+vang+qua+cau", expect: [410; 7] },
    Case { method: "GET", route: "/admin/outbox", url: "/admin/outbox", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/admin/outbox/{id}/resend", url: "/admin/outbox/999999/resend", body: "", expect: [303, 409, 403, 403, 403, 403, 403] },
    // The inbox is each account's own: a notice of another account (or none) is not found.
    Case { method: "GET", route: "/inbox", url: "/inbox", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/inbox/badge", url: "/inbox/badge", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/inbox/{id}", url: "/inbox/999999", body: "", expect: [303, 404, 404, 404, 404, 404, 404] },
    Case { method: "POST", route: "/inbox/read", url: "/inbox/read", body: "", expect: [303; 7] },
    Case { method: "POST", route: "/inbox/preferences", url: "/inbox/preferences", body: "in_app.report=on", expect: [303; 7] },
    Case { method: "GET", route: "/admin/jobs", url: "/admin/jobs", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    // A report not approved has no signature; one the asker may not read is refused first.
    Case { method: "GET", route: "/reports/{regime}/{unit}/{period}/signed.json", url: "/reports/BC_THANG_TTHC/23317/202508/signed.json", body: "", expect: [303, 404, 404, 403, 404, 404, 404] },
    Case { method: "GET", route: "/reports/{regime}/{unit}/{period}/signed.p7s", url: "/reports/BC_THANG_TTHC/23317/202508/signed.p7s", body: "", expect: [303, 404, 404, 403, 404, 404, 404] },
    Case { method: "GET", route: "/reports/{regime}/{unit}/{period}/signed.pdf", url: "/reports/BC_THANG_TTHC/23317/202508/signed.pdf", body: "", expect: [303, 404, 404, 403, 404, 404, 404] },
    Case { method: "GET", route: "/admin/upstream", url: "/admin/upstream", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/admin/upstream/{id}/resend", url: "/admin/upstream/999999/resend", body: "", expect: [303, 409, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/admin/feeds", url: "/admin/feeds", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/admin/feeds/{code}/run", url: "/admin/feeds/khong-co/run", body: "", expect: [303, 404, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/admin/jobs/{name}/run", url: "/admin/jobs/khong-co/run", body: "", expect: [303, 404, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/admin/accounts/activation", url: "/admin/accounts/activation", body: "username=khong-co", expect: [303, 404, 403, 403, 403, 403, 404] },
    Case { method: "GET", route: "/api/v1/units", url: "/api/v1/units?under=51", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/units/{code}", url: "/api/v1/units/23317", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/units/{code}/lineage", url: "/api/v1/units/23317/lineage", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/units/{code}/map", url: "/api/v1/units/23317/map?from=2025-07-01&to=2025-06-30", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/search", url: "/api/v1/search?q=ngok", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/indicators", url: "/api/v1/indicators", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/periods", url: "/api/v1/periods?periodicity=monthly&from=2025-01-01&to=2025-12-31", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/dataValueSets", url: "/api/v1/dataValueSets?period=202407&orgUnit=23317", body: "", expect: [401, 200, 200, 403, 200, 200, 200] },
    Case { method: "POST", route: "/api/v1/dataValueSets", url: "/api/v1/dataValueSets", body: r#"{"dataValues":[]}"#, expect: [401, 200, 403, 403, 403, 403, 403] },
    // Registrations read are filtered to what the asker sees; written, they need the catalog's function.
    Case { method: "GET", route: "/api/v1/completeDataSetRegistrations", url: "/api/v1/completeDataSetRegistrations?dataSet=BC_THANG_TTHC&period=202508", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "POST", route: "/api/v1/completeDataSetRegistrations", url: "/api/v1/completeDataSetRegistrations", body: r#"{"completeDataSetRegistrations":[]}"#, expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/api/v1/values", url: "/api/v1/values?indicator=HS_TIEP_NHAN&unit=23317&period=202508", body: "", expect: [401, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/values/origin", url: "/api/v1/values/origin?indicator=HS_TIEP_NHAN&unit=23317&period=202508", body: "", expect: [401, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/signatures/verify", url: "/signatures/verify", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "POST", route: "/signatures/verify", url: "/signatures/verify", body: "", expect: [303, 400, 400, 400, 400, 400, 400] },
    Case { method: "POST", route: "/api/v1/signatures/verify", url: "/api/v1/signatures/verify", body: "", expect: [401, 409, 409, 409, 409, 409, 409] },
    Case { method: "GET", route: "/values/origin", url: "/values/origin?indicator=HS_TIEP_NHAN&unit=23317&period=202508", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/values/table", url: "/api/v1/values/table?structure_at=2025-08-31&period=202508&org_unit=23317", body: "", expect: [401, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/session", url: "/api/v1/session", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/reports/due", url: "/api/v1/reports/due", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/reports", url: "/api/v1/reports?regime=BC_THANG_TTHC&unit=23317&period=202508", body: "", expect: [401, 200, 200, 403, 200, 200, 200] },
    Case { method: "POST", route: "/api/v1/reports", url: "/api/v1/reports", body: r#"{"regime":"BC_THANG_TTHC","unit":"23317","period":"202508","action":"save"}"#, expect: [401, 200, 200, 403, 403, 403, 403] },
    Case { method: "GET", route: "/api/v1/reports/xlsx", url: "/api/v1/reports/xlsx?regime=BC_THANG_TTHC&unit=23317&period=202508", body: "", expect: [401, 200, 200, 403, 200, 200, 200] },
    // The body is replaced by a real workbook of Ngọk Bay's report.
    Case { method: "POST", route: "/api/v1/reports/xlsx", url: "/api/v1/reports/xlsx", body: "", expect: [401, 200, 200, 403, 403, 403, 403] },
    Case { method: "GET", route: "/api/v1/completeness", url: "/api/v1/completeness?regime=BC_THANG_TTHC&period=202508", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/output", url: "/api/v1/output?form=TH01&unit=51&period=202508", body: "", expect: [401, 200, 403, 403, 200, 200, 403] },
    Case { method: "GET", route: "/api/v1/requests", url: "/api/v1/requests", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "POST", route: "/api/v1/requests", url: "/api/v1/requests", body: r#"{"kind":"ad_hoc","name":"Báo cáo","form":"BM01","period":"20250816","deadline":"2099-12-31","legal_basis":"CV 1","units":["23317"]}"#, expect: [401, 201, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/api/v1/requests/{code}/extend", url: "/api/v1/requests/DX-2099-001/extend", body: r#"{"deadline":"2100-01-01"}"#, expect: [401, 404, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/api/v1/requests/{code}/close", url: "/api/v1/requests/DX-2099-001/close", body: "", expect: [401, 404, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/api/v1/accounts", url: "/api/v1/accounts", body: "", expect: [401, 200, 403, 403, 403, 403, 200] },
    Case { method: "GET", route: "/api/v1/audit", url: "/api/v1/audit", body: "", expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/scim/v2/ServiceProviderConfig", url: "/scim/v2/ServiceProviderConfig", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/scim/v2/ResourceTypes", url: "/scim/v2/ResourceTypes", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/scim/v2/Schemas", url: "/scim/v2/Schemas", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/scim/v2/Schemas/{id}", url: "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", body: "", expect: [200; 7] },
    Case { method: "GET", route: "/scim/v2/ResourceTypes/{id}", url: "/scim/v2/ResourceTypes/User", body: "", expect: [200; 7] },
    Case { method: "POST", route: "/scim/v2/.search", url: "/scim/v2/.search", body: "{}", expect: [401, 501, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/scim/v2/Users/.search", url: "/scim/v2/Users/.search", body: r#"{"filter":"userName eq \"ngokbay\"","attributes":["userName"]}"#, expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "PUT", route: "/scim/v2/Users/{id}", url: "/scim/v2/Users/3", body: r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"displayName":"Cán bộ Sa Thầy","active":true}"#, expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/scim/v2/Groups/{id}", url: "/scim/v2/Groups/approver", body: "", expect: [401, 200, 403, 403, 403, 403, 403] },
    // SCIM is for integrations that manage the whole system: a unit administrator is refused.
    Case { method: "GET", route: "/scim/v2/Users", url: "/scim/v2/Users?filter=userName%20eq%20%22ngokbay%22", body: "", expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/scim/v2/Users", url: "/scim/v2/Users", body: r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"scim.user@qn.gov.vn"}"#, expect: [401, 201, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/scim/v2/Users/{id}", url: "/scim/v2/Users/2", body: "", expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "PATCH", route: "/scim/v2/Users/{id}", url: "/scim/v2/Users/2", body: r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Cán bộ Ngọk Bay"}]}"#, expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "DELETE", route: "/scim/v2/Users/{id}", url: "/scim/v2/Users/999999", body: "", expect: [401, 404, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/scim/v2/Groups", url: "/scim/v2/Groups", body: "", expect: [401, 200, 403, 403, 403, 403, 403] },
    // Rosters and plans are province-wide: a unit administrator is refused.
    Case { method: "GET", route: "/api/v1/agencies", url: "/api/v1/agencies?at=2025-07-01", body: "", expect: [401, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/api/v1/agencies/{code}", url: "/api/v1/agencies/H99.99", body: "", expect: [401, 404, 404, 404, 404, 404, 404] },
    Case { method: "POST", route: "/api/v1/agencies", url: "/api/v1/agencies", body: "code,name,kind\n", expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/api/v1/roster", url: "/api/v1/roster?from=2025-07-01", body: "agency_code,full_name,birth_date,position,post\n", expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/api/v1/accounts/plan", url: "/api/v1/accounts/plan?system=email", body: "", expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/api/v1/accounts/apply", url: "/api/v1/accounts/apply?system=baocao&at=2025-07-01", body: "", expect: [401, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/", url: "/", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/units", url: "/units?under=51", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/units/{code}", url: "/units/23317", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/indicators", url: "/indicators?q=ho+so", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "POST", route: "/indicators", url: "/indicators", body: "", expect: [303, 400, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/forms", url: "/forms", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/forms/designer", url: "/forms/designer", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/forms/designer", url: "/forms/designer", body: "definition=x", expect: [303, 422, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/forms/designer/preview", url: "/forms/designer/preview", body: "definition=x", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/forms/{code}/xlsx", url: "/forms/BM01/xlsx", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/forms/{code}", url: "/forms/BM01", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/regimes", url: "/regimes", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/reports", url: "/reports", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/reports/{regime}/{unit}/{period}", url: "/reports/BC_THANG_TTHC/23317/202508", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "POST", route: "/reports/{regime}/{unit}/{period}", url: "/reports/BC_THANG_TTHC/23317/202508", body: "action=save", expect: [303, 303, 303, 403, 403, 403, 403] },
    Case { method: "GET", route: "/reports/{regime}/{unit}/{period}/print", url: "/reports/BC_THANG_TTHC/23317/202508/print", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "POST", route: "/reports/{regime}/{unit}/{period}/xlsx", url: "/reports/BC_THANG_TTHC/23317/202508/xlsx", body: "", expect: [303, 400, 400, 403, 403, 403, 403] },
    Case { method: "GET", route: "/review", url: "/review", body: "", expect: [303, 200, 403, 403, 200, 403, 403] },
    Case { method: "POST", route: "/review", url: "/review", body: "regime=BC_THANG_TTHC&period=202508&unit=23317&confirm=1", expect: [303, 400, 403, 403, 400, 403, 403] },
    Case { method: "GET", route: "/completeness", url: "/completeness", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/completeness", url: "/completeness?format=xlsx", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/completeness", url: "/completeness?format=print", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/compare", url: "/compare?unit=23317&indicator=HS_TIEP_NHAN&months=3", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/compare", url: "/compare?unit=23317&indicator=HS_TIEP_NHAN&months=3&format=xlsx", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/compare", url: "/compare?unit=23317&indicator=HS_TIEP_NHAN&months=3&format=print", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/quality", url: "/quality?regime=BC_THANG_TTHC&period=202508", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    // Marking a value to be checked: who may approve the unit's report.
    Case { method: "POST", route: "/quality/follow-ups", url: "/quality/follow-ups", body: "regime=BC_THANG_TTHC&period=202508&unit=23317&indicator=HS_TIEP_NHAN&action=mark&note=xem+lai", expect: [303, 303, 403, 403, 303, 403, 403] },
    Case { method: "GET", route: "/analysis", url: "/analysis?unit=23317&indicator=HS_TIEP_NHAN&depth=area", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/analysis", url: "/analysis?unit=23317&indicator=HS_TIEP_NHAN&depth=area&format=xlsx", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/analysis", url: "/analysis?unit=23317&indicator=HS_TIEP_NHAN&depth=area&format=print", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    Case { method: "GET", route: "/analysis", url: "/analysis?unit=23317&indicator=HS_TIEP_NHAN&depth=area&chart=stacked&format=svg", body: "", expect: [303, 200, 200, 403, 200, 200, 200] },
    // Favourites and dashboards are each account's own: another's (or none) is not found.
    Case { method: "POST", route: "/favourites", url: "/favourites", body: "name=Ngok+Bay&query=indicator%3DHS_TIEP_NHAN%26unit%3D23317", expect: [303, 303, 303, 303, 303, 303, 303] },
    Case { method: "POST", route: "/favourites/{id}/delete", url: "/favourites/999999/delete", body: "", expect: [303, 404, 404, 404, 404, 404, 404] },
    Case { method: "GET", route: "/dashboards", url: "/dashboards", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    // Shared over Ngọk Bay: only who sees it may.
    Case { method: "POST", route: "/dashboards", url: "/dashboards", body: "name=Ngok+Bay&shared_unit=23317", expect: [303, 303, 303, 403, 303, 303, 303] },
    Case { method: "GET", route: "/dashboards/{id}", url: "/dashboards/999999", body: "", expect: [303, 404, 404, 404, 404, 404, 404] },
    Case { method: "GET", route: "/dashboards/{id}/views/{n}", url: "/dashboards/999999/views/0", body: "", expect: [303, 404, 404, 404, 404, 404, 404] },
    Case { method: "POST", route: "/dashboards/{id}/delete", url: "/dashboards/999999/delete", body: "", expect: [303, 404, 404, 404, 404, 404, 404] },
    Case { method: "GET", route: "/output", url: "/output?form=TH01&unit=51", body: "", expect: [303, 200, 403, 403, 200, 200, 403] },
    Case { method: "GET", route: "/output", url: "/output?form=TH01&unit=51&format=xlsx", body: "", expect: [303, 200, 403, 403, 200, 200, 403] },
    Case { method: "GET", route: "/output", url: "/output?form=TH01&unit=51&format=print", body: "", expect: [303, 200, 403, 403, 200, 200, 403] },
    Case { method: "GET", route: "/admin/accounts", url: "/admin/accounts", body: "", expect: [303, 200, 403, 403, 403, 403, 200] },
    // A password too short: refused for those who may create accounts, forbidden for the rest.
    Case { method: "POST", route: "/admin/accounts", url: "/admin/accounts", body: "username=moi&display_name=M&password=ngan", expect: [303, 400, 403, 403, 403, 403, 400] },
    // A grant on Xã Sa Thầy: outside the unit administrator's commune.
    Case { method: "POST", route: "/admin/accounts/password", url: "/admin/accounts/password", body: "username=khong-co&password=mat-khau-du-dai", expect: [303, 404, 403, 403, 403, 403, 404] },
    Case { method: "POST", route: "/admin/accounts/state", url: "/admin/accounts/state", body: "username=khong-co&active=false", expect: [303, 404, 403, 403, 403, 403, 404] },
    Case { method: "POST", route: "/admin/tokens", url: "/admin/tokens", body: "username=khong-co&name=t&scope=view_reports", expect: [303, 404, 403, 403, 403, 403, 404] },
    Case { method: "POST", route: "/admin/tokens/revoke", url: "/admin/tokens/revoke", body: "token=999999", expect: [303, 404, 403, 403, 403, 403, 404] },
    Case { method: "POST", route: "/admin/grants", url: "/admin/grants", body: "username=viewer&role=viewer&unit=23527", expect: [303, 303, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/admin/grants/revoke", url: "/admin/grants/revoke", body: "grant=999999", expect: [303, 404, 403, 403, 403, 403, 404] },
    Case { method: "GET", route: "/agencies", url: "/agencies", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/regimes/editor", url: "/regimes/editor?code=BC_THANG_TTHC", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/regimes/editor/preview", url: "/regimes/editor/preview", body: "definition=code%3D%22X%22", expect: [303, 200, 403, 403, 403, 403, 403] },
    // Refused for what it says (no name, no form…) once let in: shown again with the problems.
    Case { method: "POST", route: "/regimes/editor", url: "/regimes/editor", body: "definition=code%3D%22X%22", expect: [303, 422, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/requests", url: "/requests", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "POST", route: "/requests", url: "/requests", body: "kind=ad_hoc&name=B%C3%A1o+c%C3%A1o&form=BM01&period=15%2F08%2F2025&deadline=31%2F12%2F2099&legal_basis=CV+1&units=23317", expect: [303, 303, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/requests/{code}/extend", url: "/requests/DX-2099-001/extend", body: "deadline=01%2F01%2F2100", expect: [303, 404, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/requests/{code}/close", url: "/requests/DX-2099-001/close", body: "", expect: [303, 404, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/tasks", url: "/tasks", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "POST", route: "/tasks", url: "/tasks", body: "plan=KH&number=1&status=in_progress", expect: [303, 404, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/archive", url: "/archive", body: "", expect: [303, 200, 200, 200, 200, 200, 200] },
    Case { method: "GET", route: "/archive/{id}", url: "/archive/999", body: "", expect: [303, 404, 404, 404, 404, 404, 404] },
    Case { method: "GET", route: "/archive/{id}/files/{*path}", url: "/archive/999/files/data/x.csv", body: "", expect: [303, 404, 404, 404, 404, 404, 404] },
    Case { method: "POST", route: "/agencies", url: "/agencies", body: "", expect: [303, 400, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/roster", url: "/roster", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    // Without a file the upload is refused for those allowed; the rest are turned away first.
    Case { method: "POST", route: "/roster", url: "/roster", body: "", expect: [303, 400, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/roster/template", url: "/roster/template", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/roster/xlsx", url: "/roster/xlsx?at=01/07/2025", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/accounts/plan", url: "/accounts/plan", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/accounts/plan/xlsx", url: "/accounts/plan/xlsx?system=email", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
    Case { method: "POST", route: "/accounts/apply", url: "/accounts/apply", body: "at=2025-07-01&domain=qn.gov.vn", expect: [303, 303, 403, 403, 403, 403, 403] },
    Case { method: "GET", route: "/audit", url: "/audit?action=report.", body: "", expect: [303, 200, 403, 403, 403, 403, 403] },
];

async fn send(app: &App, case: &Case, who: Option<&str>, workbook: &[u8]) -> u16 {
    let url = app.url(case.url);
    let method: reqwest::Method = case.method.parse().unwrap();
    let mut req = match case.method {
        "GET" | "DELETE" => app.client.request(method, url),
        _ => {
            let (content_type, body) = if case.route == "/api/v1/reports/xlsx" {
                ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", workbook.to_vec())
            } else if case.url.starts_with("/api/") || case.url.starts_with("/scim/") {
                ("application/json", case.body.as_bytes().to_vec())
            } else {
                (FORM, case.body.as_bytes().to_vec())
            };
            app.client.request(method, url).header("content-type", content_type).body(body)
        }
    };
    if let Some(who) = who {
        req = req.bearer_auth(app.token(who));
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_route_for_every_role_and_scope() {
    let app = spawn().await;
    let rules = baocao_server::access_rules();
    for rule in &rules {
        assert!(
            CASES.iter().any(|c| c.method == rule.method.as_str() && c.route == rule.path),
            "route {} {} has no case in this table: add one with the status each role must get",
            rule.method,
            rule.path
        );
    }
    for case in CASES {
        assert!(
            rules.iter().any(|r| r.method.as_str() == case.method && r.path == case.route),
            "case {} {} names a route that does not exist",
            case.method,
            case.route
        );
    }
    let workbook = app.bytes_as("admin", &format!("/api/v1/reports/xlsx?{REPORT}")).await;
    let mut wrong = Vec::new();
    for case in CASES {
        for (who, expected) in WHO.iter().zip(case.expect) {
            let got = send(&app, case, *who, &workbook).await;
            if got != expected {
                wrong.push(format!("{} {} as {:?}: {got}, expected {expected}", case.method, case.url, who));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_openapi_document_states_each_routes_access() {
    let app = spawn().await;
    let (_, doc) = app.get("/api/openapi.json").await;
    for rule in baocao_server::access_rules().iter().filter(|r| r.path.starts_with("/api/v1")) {
        let op = &doc["paths"][rule.path][rule.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} is missing from the OpenAPI document", rule.method, rule.path);
        assert!(op["x-baocao-access"].is_object(), "{} {} does not state its access", rule.method, rule.path);
    }
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
}

/// The CSRF token of a page, as its forms carry it.
fn csrf(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a form with a CSRF token") + 20;
    html[at..at + 64].to_string()
}

async fn page(app: &App, cookie: &str, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post_form(app: &App, cookie: &str, path: &str, form: &[(&str, &str)]) -> u16 {
    let res = app.client.post(app.url(path)).header("cookie", cookie).form(form).send().await.unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn sessions_need_csrf_and_are_rotated_at_sign_in() {
    let app = spawn().await;
    let report = "/reports/BC_THANG_TTHC/23317/202508";
    let (status, _) = app.get_as(None, report).await;
    assert_eq!(status, 303, "anonymous visitors are sent to sign in");

    let mine = app.sign_in("ngokbay", PASSWORD, None).await.expect("signed in");
    let (status, html) = page(&app, &mine, report).await;
    assert_eq!(status, 200);
    let token = csrf(&html);
    assert_eq!(post_form(&app, &mine, report, &[("action", "save")]).await, 403, "no CSRF token");
    assert_eq!(post_form(&app, &mine, report, &[("action", "save"), ("_csrf", &"0".repeat(64))]).await, 403);
    assert_eq!(post_form(&app, &mine, report, &[("action", "save"), ("_csrf", &token)]).await, 303);

    // A session id planted before sign-in is replaced, and stops working.
    let planted = app.sign_in("approver", PASSWORD, None).await.unwrap();
    let fresh = app.sign_in("ngokbay", PASSWORD, Some(&planted)).await.unwrap();
    assert_ne!(planted, fresh);
    assert_eq!(page(&app, &planted, "/").await.0, 303);
    assert_eq!(page(&app, &fresh, "/").await.0, 200);

    // Signing out ends the session on the server, not only in the browser.
    let (_, html) = page(&app, &fresh, "/").await;
    assert_eq!(post_form(&app, &fresh, "/logout", &[("_csrf", &csrf(&html))]).await, 303);
    assert_eq!(page(&app, &fresh, "/").await.0, 303);
    // The first session is still alive and still cannot see another commune.
    assert_eq!(page(&app, &mine, "/reports/BC_THANG_TTHC/23527/202508").await.0, 403);
}

#[tokio::test]
async fn a_refused_sign_in_never_tells_which_names_exist_or_are_locked() {
    let app = spawn().await;
    let attempt = |username: &'static str, password: &'static str| {
        let req = app.client.post(app.url("/login")).form(&[("username", username), ("password", password)]);
        async move {
            let res = req.send().await.unwrap();
            // The form keeps the name typed; the rest must not differ.
            (res.status().as_u16(), res.text().await.unwrap().replace(username, "NAME"))
        }
    };
    let unknown = attempt("khong-ai-co-ten-nay", "wrong password").await;
    let wrong = attempt("approver", "wrong password").await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong, "an unknown name and a wrong password get the same answer");
    for _ in 0..4 {
        assert_eq!(attempt("approver", "wrong password").await, wrong);
    }
    let lock = app.db.db.account("approver").await.unwrap().unwrap().locked_until;
    assert!(lock.is_some_and(|until| until > chrono::Utc::now()), "locked after five failures");
    // Locked now: even the right password gets the same answer, which
    // says that a lock may be why.
    let locked = attempt("approver", PASSWORD).await;
    assert_eq!(locked, wrong);
    assert!(locked.1.contains("tạm khóa"), "{}", locked.1);
    let (_, audit) = app.get("/api/v1/audit?action=session.sign_in_failed").await;
    assert_eq!(audit.as_array().unwrap().len(), 7, "every refusal is recorded: {audit}");
    // Attempts while it holds do not extend the lock.
    assert_eq!(app.db.db.account("approver").await.unwrap().unwrap().locked_until, lock);
}

#[tokio::test]
async fn every_answer_carries_the_browsers_protections() {
    let app = spawn().await;
    let cookie = app.sign_in("ngokbay", PASSWORD, None).await.unwrap();
    let get = |path: &'static str, cookie: Option<String>| {
        let mut req = app.client.get(app.url(path));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move { req.send().await.unwrap() }
    };
    let answers = [
        ("a page", get("/reports/BC_THANG_TTHC/23317/202508", Some(cookie.clone())).await),
        ("a refusal", get("/reports/BC_THANG_TTHC/23527/202508", Some(cookie.clone())).await),
        ("the API", get("/api/v1/indicators", None).await),
        ("sign-in", get("/login", None).await),
        ("nothing", get("/khong-co", None).await),
    ];
    for (what, res) in &answers {
        let h = res.headers();
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap()).unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert_eq!(h.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{what}");
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{what}");
        assert!(h.get("referrer-policy").is_some(), "{what}");
        // Nothing an account sees stays in the browser's cache for Back.
        assert_eq!(h.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{what}");
    }
    for sheet in ["/static/app.css", "/static/document.css"] {
        let answer = get(sheet, None).await;
        assert!(answer.headers()["cache-control"].to_str().unwrap().contains("max-age"), "{sheet} is cached");
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/css"), "{sheet}");
    }
}

#[tokio::test]
async fn sign_in_and_changes_posted_from_another_site_are_refused() {
    let app = spawn().await;
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut req =
            app.client.post(app.url("/login")).form(&[("username", "ngokbay"), ("password", PASSWORD), ("next", "/")]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(f) = fetch_site {
            req = req.header("sec-fetch-site", f);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(Some("https://evil.example"), None).await, 403);
    assert_eq!(post(None, Some("cross-site")).await, 403);
    assert_eq!(post(Some("null"), None).await, 403);
    let own = app.base.clone();
    let own: &'static str = Box::leak(own.into_boxed_str());
    assert_eq!(post(Some(own), Some("same-origin")).await, 303);
    // A signed-in session's form posted from elsewhere, even with its token.
    let cookie = app.sign_in("ngokbay", PASSWORD, None).await.unwrap();
    let report = "/reports/BC_THANG_TTHC/23317/202508";
    let (_, html) = page(&app, &cookie, report).await;
    let res = app
        .client
        .post(app.url(report))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&[("action", "save"), ("_csrf", &csrf(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn revoked_tokens_and_closed_accounts_are_refused() {
    let app = spawn().await;
    assert_eq!(app.get_as(Some("viewer"), "/api/v1/indicators").await.0, 200);
    app.db.db.set_active("test", "viewer", false).await.unwrap();
    assert_eq!(app.get_as(Some("viewer"), "/api/v1/indicators").await.0, 401);
    let tokens = app.db.db.tokens().await.unwrap();
    let sathay = tokens.iter().find(|t| t.username == "sathay").unwrap();
    app.db.db.revoke_token("test", sathay.id).await.unwrap();
    assert_eq!(app.get_as(Some("sathay"), "/api/v1/indicators").await.0, 401);
}

/// The limit is the database's, not a process's: attempts spread over two
/// servers on one database (as behind a load balancer) count together.
#[tokio::test]
async fn sign_in_attempts_are_limited_per_address() {
    let app = spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}", listener.local_addr().unwrap());
    let second = baocao_server::router(baocao_server::AppState::new(app.db.db.clone(), Default::default()));
    tokio::spawn(async move { axum::serve(listener, second).await.unwrap() });
    for attempt in 0..10 {
        let base = if attempt % 2 == 0 { app.base.clone() } else { other.clone() };
        let res =
            app.client.post(format!("{base}/login")).form(&[("username", "nobody"), ("password", "guess")]).send();
        assert_eq!(res.await.unwrap().status().as_u16(), 401, "attempt {attempt}");
    }
    let res = app
        .client
        .post(format!("{other}/login"))
        .form(&[("username", "ngokbay"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.text().await.unwrap().contains("Quá nhiều lần đăng nhập"));
}

/// A commune's officer follows the progress of its own report: the API and
/// the page show its row and how many others are withheld, never theirs.
#[tokio::test]
async fn progress_shows_a_commune_only_itself() {
    let app = spawn().await;
    let (status, body) = app.get_as(Some("ngokbay"), "/api/v1/completeness?regime=BC_THANG_TTHC&period=202508").await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = body["units"].as_array().unwrap().iter().filter_map(|u| u["code"].as_str()).collect();
    assert_eq!(codes, ["23317"]);
    assert_eq!(body["expected"], 1);
    assert!(body["withheld"].as_u64().unwrap() > 0, "{body}");
    let (_, html) = app.text_as("ngokbay", "/completeness?regime=BC_THANG_TTHC&period=202508").await;
    assert!(html.contains("23317") && !html.contains("23527"), "another commune shown to ngokbay");
    assert!(html.contains("id=\"withheld\""), "the page says that others are withheld");
    // Its workbook and its print too.
    let path = "/completeness?regime=BC_THANG_TTHC&period=202508";
    let rows = common::sheet(&app.bytes_as("ngokbay", &format!("{path}&format=xlsx")).await);
    let codes: Vec<&str> =
        rows.iter().filter(|r| r[0].len() == 5 && r[0].parse::<u32>().is_ok()).map(|r| r[0].as_str()).collect();
    assert_eq!(codes, ["23317"], "{rows:#?}");
    assert!(rows.iter().any(|r| r[0].contains("đơn vị khác của chế độ báo cáo không được tính")), "{rows:#?}");
    let (_, printed) = app.text_as("ngokbay", &format!("{path}&format=print")).await;
    assert!(printed.contains("23317") && !printed.contains("23527"), "another commune printed for ngokbay");
    // A format no page makes is refused, in Vietnamese, before any work.
    let (status, refused) = app.text_as("ngokbay", &format!("{path}&format=pdf")).await;
    assert_eq!(status, 400);
    assert!(refused.contains("không phải xlsx"), "{refused}");
}
