//! Approved reports signed with the organisation's key (an encrypted
//! PKCS#12 file issued by a test CA made here with `openssl`), by a real
//! `baocao serve`, and the signature checked by an outside verifier:
//! `openssl cms -verify` against the CA, which must also refuse the
//! content once changed, and poppler's `pdfsig` for the signed PDF.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Process, spawn};

const PASSPHRASE: &str = "mat-khau-khoa-ky";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA and an organisation's key and certificate issued by it, as
/// `ca.pem` and `org.p12` in `dir`.
fn test_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-utf8",
            "-subj",
            "/CN=CA thử nghiệm baocao",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "org.key",
            "-out",
            "org.csr",
            "-utf8",
            "-subj",
            "/O=UBND tỉnh Quảng Ngãi/CN=UBND tỉnh Quảng Ngãi",
        ],
    );
    std::fs::write(dir.join("ext.cnf"), "keyUsage = critical, digitalSignature, nonRepudiation\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "org.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "org.pem",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
        ],
    );
    let pass = format!("pass:{PASSPHRASE}");
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "org.key",
            "-in",
            "org.pem",
            "-certfile",
            "ca.pem",
            "-out",
            "org.p12",
            "-passout",
            &pass,
        ],
    );
}

/// What `openssl cms -print` says of `bao-cao.p7s` in `dir`.
fn cms_printout(dir: &Path) -> String {
    let printed = Command::new("openssl")
        .current_dir(dir)
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in", "bao-cao.p7s"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&printed.stdout).into_owned()
}

/// What a poppler tool prints (the tool is installed by `.ci/run`).
fn poppler(dir: &Path, tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).current_dir(dir).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Whether `openssl cms -verify` holds `signature` good for `content`.
fn verifies(dir: &Path, content: &[u8], signature: &[u8]) -> (bool, String) {
    std::fs::write(dir.join("bao-cao.json"), content).unwrap();
    std::fs::write(dir.join("bao-cao.p7s"), signature).unwrap();
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in", "bao-cao.p7s", "-content", "bao-cao.json"])
        .args(["-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null"])
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approved_report_is_signed_and_the_signature_holds_for_openssl() {
    let dir = tempfile::tempdir().unwrap();
    test_ca(dir.path());
    let app = spawn().await;
    let key = dir.path().join("org.p12");
    let key = key.to_str().unwrap();

    // A wrong passphrase stops the server before it serves.
    let refused = Command::new(env!("CARGO_BIN_EXE_baocao"))
        .args(["--db", app.db.url.as_str(), "serve", "--listen", "127.0.0.1:0", "--signing-key", key])
        .env("BAOCAO_SIGNING_PASSPHRASE", "sai")
        .env("CI", "1")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("sai mật khẩu"), "{refused:?}");

    let trusted = dir.path().join("ca.pem");
    let trusted = trusted.to_str().unwrap();
    let args = ["--db", app.db.url.as_str(), "serve", "--listen", "127.0.0.1:0", "--signing-key", key];
    let args = [&args[..], &["--trust-list", trusted]].concat();
    let server = Process::start_with(&args, &[("BAOCAO_SIGNING_PASSPHRASE", PASSPHRASE)]);
    let report = r#""regime":"BC_THANG_TTHC","unit":"23317","period":"202509""#;
    let submit = format!(
        r#"{{{report},"action":"submit","signer":"Lê Văn C","position":"Chủ tịch","values":{{"HS_TIEP_NHAN":"120","HS_DUNG_HAN":"100"}}}}"#
    );
    let post = |who: &'static str, body: String| {
        let app = &app;
        async move { app.post_as(Some(who), "/api/v1/reports?answer=outcome", "application/json", &body).await }
    };
    assert_eq!(post("ngokbay", submit).await.0, 200);
    assert_eq!(post("approver", format!(r#"{{{report},"action":"approve"}}"#)).await.0, 200);

    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let (_, page) = app.text_as("approver", "/reports/BC_THANG_TTHC/23317/202509").await;
        if page.contains("Đã ký số bởi") {
            break page;
        }
        assert!(page.contains("Đang chờ ký số"), "{page}");
        assert!(Instant::now() < deadline, "the report was not signed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(page.contains("UBND tỉnh Quảng Ngãi"), "{page}");
    // Checked as shown, against the configured trust list: it holds; for
    // a server trusting another authority only, it does not.
    let shown_by = |base: String| {
        let app = &app;
        let request = app.client.get(format!("{base}/reports/BC_THANG_TTHC/23317/202509"));
        async move { request.bearer_auth(app.token("approver")).send().await.unwrap().text().await.unwrap() }
    };
    let shown = shown_by(server.base.clone()).await;
    assert!(shown.contains("Chữ ký số hợp lệ"), "{shown}");
    let other = baocao_signing::demo::issue("CA khác", "Nơi khác", "x").unwrap();
    std::fs::write(dir.path().join("khac.pem"), &other.authority_pem).unwrap();
    let stranger = dir.path().join("khac.pem");
    let args = ["--db", app.db.url.as_str(), "serve", "--listen", "127.0.0.1:0"];
    let wary = Process::start(&[&args[..], &["--trust-list", stranger.to_str().unwrap()]].concat());
    let shown = shown_by(wary.base.clone()).await;
    assert!(shown.contains("CHỮ KÝ SỐ KHÔNG HỢP LỆ"), "{shown}");

    let base = "/reports/BC_THANG_TTHC/23317/202509";
    let content = app.bytes_as("approver", &format!("{base}/signed.json")).await;
    let signature = app.bytes_as("approver", &format!("{base}/signed.p7s")).await;
    let signed: serde_json::Value = serde_json::from_slice(&content).unwrap();
    assert_eq!(signed["values"]["HS_TIEP_NHAN"], "120", "{signed}");
    assert_eq!((signed["approved_by"].as_str(), signed["revision"].as_i64()), (Some("approver"), Some(2)));
    assert_eq!(signed["document_sha256"].as_str().map(str::len), Some(64), "{signed}");
    let (good, said) = verifies(dir.path(), &content, &signature);
    assert!(good, "{said}");
    // Signed with SHA-256, the signing time and the report's digest as
    // signed attributes, and the chain up to the CA carried along.
    let printed = cms_printout(dir.path());
    for part in ["signingTime", "messageDigest", "sha256", "CA th"] {
        assert!(printed.contains(part), "{part} not in {printed}");
    }
    // One figure changed and the signature no longer holds.
    let forged = String::from_utf8(content.clone()).unwrap().replace("\"120\"", "\"121\"").into_bytes();
    let (good, said) = verifies(dir.path(), &forged, &signature);
    assert!(!good, "a changed content verified: {said}");

    // The printed report, signed inside its PDF (PAdES): poppler's pdfsig
    // finds the signature valid over the whole file, and the text reads
    // in Vietnamese.
    let pdf = app.bytes_as("approver", &format!("{base}/signed.pdf")).await;
    std::fs::write(dir.path().join("bao-cao.pdf"), &pdf).unwrap();
    let checked = poppler(dir.path(), "pdfsig", &["bao-cao.pdf"]);
    for part in [
        "Signature Validation: Signature is Valid.",
        "Total document signed",
        "UBND tỉnh Quảng Ngãi",
        "ETSI.CAdES.detached",
        "SHA-256",
    ] {
        assert!(checked.contains(part), "{part} not in {checked}");
    }
    let text = poppler(dir.path(), "pdftotext", &["-layout", "bao-cao.pdf", "-"]);
    for part in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO", "Lê Văn C", "TM. ỦY BAN NHÂN DÂN", "120"]
    {
        assert!(text.contains(part), "{part} not in {text}");
    }
    // Uploaded to be checked: valid against the trust list; one byte
    // changed and it is not; not a PDF, refused by name.
    let check = |body: Vec<u8>| {
        let request = app.client.post(format!("{}/api/v1/signatures/verify", server.base)).body(body);
        let request = request.bearer_auth(app.token("viewer"));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, found) = check(pdf.clone()).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!((found[0]["valid"].as_bool(), found[0]["covers_whole_file"].as_bool()), (Some(true), Some(true)));
    assert_eq!(found[0]["signer"], "UBND tỉnh Quảng Ngãi");
    let mut forged = pdf.clone();
    let at = forged.windows(6).position(|w| w == b"stream").unwrap() + 20;
    forged[at] ^= 0x01;
    let (_, found) = check(forged).await;
    assert_eq!(found[0]["valid"], false, "{found}");
    assert!(found[0]["problem"].as_str().is_some_and(|p| !p.is_empty()), "{found}");
    let (status, refused) = check(b"<html>not a pdf</html>".to_vec()).await;
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("không phải tệp PDF")), "{refused}");
    // The page: the same check, shown in Vietnamese.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(pdf).file_name("bao-cao-da-ky.pdf"));
    let request = app.client.post(format!("{}/signatures/verify", server.base)).multipart(form);
    let shown = request.bearer_auth(app.token("viewer")).send().await.unwrap().text().await.unwrap();
    assert!(shown.contains("bao-cao-da-ky.pdf") && shown.contains("Hợp lệ: tệp không đổi từ khi ký"), "{shown}");

    // Whoever may not read the report does not get its signed content.
    let (status, _) = app.text_as("sathay", &format!("{base}/signed.json")).await;
    assert_eq!(status, 403);
    let (status, _) = app.text_as("sathay", &format!("{base}/signed.pdf")).await;
    assert_eq!(status, 403);
    // Reopened, it is no longer an approved, signed report.
    let reopen = format!(r#"{{{report},"action":"reopen","reason":"Sai số liệu"}}"#);
    assert_eq!(post("approver", reopen).await.0, 200);
    let (status, _) = app.text_as("approver", &format!("{base}/signed.p7s")).await;
    assert_eq!(status, 404);
}

/// Debian's SoftHSM2 module.
const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "246810";

/// Runs a token tool with the test's own SoftHSM configuration.
fn token_tool(dir: &Path, tool: &str, args: &[&str]) {
    let out = Command::new(tool)
        .current_dir(dir)
        .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (installed by .ci/run): {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A SoftHSM2 token «baocao» in `dir` holding the organisation's key
/// (`org.key`, imported) under the label «ky-so», with its certificate
/// (`org.pem`) and the CA's (`ca.pem`), as a certification service hands
/// a token over.
fn softhsm_token(dir: &Path) {
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    let conf = format!(
        "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
        dir.join("tokens").display()
    );
    std::fs::write(dir.join("softhsm2.conf"), conf).unwrap();
    let init = ["--init-token", "--free", "--label", "baocao", "--pin", PIN, "--so-pin", "13579111"];
    token_tool(dir, "softhsm2-util", &init);
    openssl(dir, &["pkcs8", "-topk8", "-nocrypt", "-in", "org.key", "-out", "org.p8"]);
    let import = ["--import", "org.p8", "--token", "baocao", "--label", "ky-so", "--id", "01", "--pin", PIN];
    token_tool(dir, "softhsm2-util", &import);
    for (pem, der, label, id) in [("org.pem", "org.der", "ky-so", "01"), ("ca.pem", "ca.der", "ca", "02")] {
        openssl(dir, &["x509", "-in", pem, "-outform", "DER", "-out", der]);
        let args = ["--module", SOFTHSM, "--token-label", "baocao", "--login", "--pin", PIN, "--write-object", der];
        token_tool(dir, "pkcs11-tool", &[&args[..], &["--type", "cert", "--label", label, "--id", id]].concat());
    }
}

/// An elliptic-curve key (what the demo's authority issues) in a token:
/// the token's raw ECDSA signature is carried as DER, and `doctor`'s probe
/// signature holds against the authority; a wrong PIN fails the check.
#[test]
fn an_elliptic_curve_key_in_a_token_signs_what_holds() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let issued = baocao_signing::demo::issue("CA thử", "UBND xã thử", "x").unwrap();
    std::fs::write(dir.join("org.p12"), &issued.pkcs12).unwrap();
    std::fs::write(dir.join("ca.pem"), &issued.authority_pem).unwrap();
    openssl(dir, &["pkcs12", "-in", "org.p12", "-passin", "pass:x", "-nocerts", "-nodes", "-out", "org.key"]);
    openssl(dir, &["pkcs12", "-in", "org.p12", "-passin", "pass:x", "-clcerts", "-nokeys", "-out", "org.pem"]);
    softhsm_token(dir);
    let doctor = |pin: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_baocao"))
            .current_dir(dir)
            .args(["--db", "sqlite::memory:", "doctor", "--format", "json", "--trust-list", "ca.pem"])
            .arg("--signing-key")
            .arg(format!("pkcs11:token=baocao;object=ky-so?module-path={SOFTHSM}"))
            .env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
            .env("BAOCAO_SIGNING_PIN", pin)
            .env("CI", "1")
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report.as_array().unwrap().iter().find(|f| f["check"] == "signing_key").cloned().unwrap()
    };
    let found = doctor(PIN);
    assert_eq!(found["level"], "ok", "{found}");
    assert!(found["vi"].as_str().unwrap().contains("UBND xã thử"), "{found}");
    let refused = doctor("111111");
    assert_eq!(refused["level"], "fail", "{refused}");
    assert!(refused["vi"].as_str().unwrap().contains("sai mã PIN"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_in_a_pkcs11_token_signs_reports_that_outside_verifiers_accept() {
    let dir = tempfile::tempdir().unwrap();
    test_ca(dir.path());
    softhsm_token(dir.path());
    let app = spawn().await;
    let uri = format!("pkcs11:token=baocao;object=ky-so?module-path={SOFTHSM}");
    let conf = dir.path().join("softhsm2.conf");
    let conf = conf.to_str().unwrap();

    // A wrong PIN, or a PIN in the URI, stops the server before it serves.
    let refused = |uri: &str, pin: &str| {
        Command::new(env!("CARGO_BIN_EXE_baocao"))
            .args(["--db", app.db.url.as_str(), "serve", "--listen", "127.0.0.1:0", "--signing-key", uri])
            .env("SOFTHSM2_CONF", conf)
            .env("BAOCAO_SIGNING_PIN", pin)
            .env("CI", "1")
            .output()
            .unwrap()
    };
    let wrong = refused(&uri, "000000");
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("sai mã PIN"), "{wrong:?}");
    let in_uri = refused(&format!("{uri}&pin-value={PIN}"), PIN);
    assert!(String::from_utf8_lossy(&in_uri.stderr).contains("BAOCAO_SIGNING_PIN"), "{in_uri:?}");

    let trusted = dir.path().join("ca.pem");
    let args = ["--db", app.db.url.as_str(), "serve", "--listen", "127.0.0.1:0", "--signing-key", &uri];
    let args = [&args[..], &["--trust-list", trusted.to_str().unwrap()]].concat();
    let server = Process::start_with(&args, &[("BAOCAO_SIGNING_PIN", PIN), ("SOFTHSM2_CONF", conf)]);
    let report = r#""regime":"BC_THANG_TTHC","unit":"23317","period":"202510""#;
    let submit = format!(
        r#"{{{report},"action":"submit","signer":"Lê Văn C","position":"Chủ tịch","values":{{"HS_TIEP_NHAN":"75","HS_DUNG_HAN":"70"}}}}"#
    );
    let posted = app.post_as(Some("ngokbay"), "/api/v1/reports?answer=outcome", "application/json", &submit).await;
    assert_eq!(posted.0, 200, "{}", posted.1);
    let approve = format!(r#"{{{report},"action":"approve"}}"#);
    let posted = app.post_as(Some("approver"), "/api/v1/reports?answer=outcome", "application/json", &approve).await;
    assert_eq!(posted.0, 200, "{}", posted.1);

    let base = "/reports/BC_THANG_TTHC/23317/202510";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let request = app.client.get(format!("{}{base}", server.base)).bearer_auth(app.token("approver"));
        let page = request.send().await.unwrap().text().await.unwrap();
        if page.contains("Chữ ký số hợp lệ") {
            break;
        }
        assert!(Instant::now() < deadline, "the report was not signed by the token: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The token's signature, built outside OpenSSL, is one OpenSSL accepts.
    let content = app.bytes_as("approver", &format!("{base}/signed.json")).await;
    let signature = app.bytes_as("approver", &format!("{base}/signed.p7s")).await;
    let (good, said) = verifies(dir.path(), &content, &signature);
    assert!(good, "{said}");
    let printed = cms_printout(dir.path());
    for part in ["signingTime", "messageDigest", "id-smime-aa-signingCertificateV2", "sha256WithRSAEncryption"] {
        assert!(printed.contains(part), "{part} not in {printed}");
    }
    let forged = String::from_utf8(content).unwrap().replace("\"75\"", "\"76\"").into_bytes();
    assert!(!verifies(dir.path(), &forged, &signature).0, "a changed content verified");
    // And the PDF, which poppler checks.
    let pdf = app.bytes_as("approver", &format!("{base}/signed.pdf")).await;
    std::fs::write(dir.path().join("token.pdf"), &pdf).unwrap();
    let checked = poppler(dir.path(), "pdfsig", &["token.pdf"]);
    for part in ["Signature Validation: Signature is Valid.", "Total document signed", "UBND tỉnh Quảng Ngãi"] {
        assert!(checked.contains(part), "{part} not in {checked}");
    }
}
