#!/usr/bin/env bash
# The archive packages of a cutover, validated by bagit-python (the Library
# of Congress's reference implementation), not only by baocao itself.
# Loads the national reform and a monthly regime over one province, enters
# reports before the reform, applies a cutover referencing the reform for
# the units that became Xã Ngọk Bay (with the handover records printed to
# PDF by chromium), and validates every bag.
# Usage: BAOCAO_BIN=target/debug/baocao e2e/archive/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../../data"
bin="$(realpath "${BAOCAO_BIN:?set BAOCAO_BIN to the baocao binary}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
venv="${E2E_VENV:-$work/venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/../requirements.txt"

export BAOCAO_DATABASE_URL="sqlite:$work/baocao.db" CI=1
"$bin" registry load-2025 "$data/vn-admin" --supplement "$data/supplements/special-zones-2025.csv" >/dev/null
"$bin" indicators import "$data/demo/indicators.csv" >/dev/null
"$bin" forms import "$data/demo/form-bm01-2024.toml" >/dev/null
sed 's/^\[units\]/[units]\nunder = "51"/' "$data/demo/regime-monthly.toml" >"$work/regime.toml"
"$bin" regimes import "$work/regime.toml" >/dev/null
report() { "$bin" report "$1" --regime BC_THANG_TTHC --unit "$2" --period "$3" "${@:4}" >/dev/null; }
report submit 23314 202505 --set HS_TIEP_NHAN=40 --signer "Y Sương" --position "Chủ tịch"
report approve 23314 202505 --by "Nguyễn Văn A"
report save 23314 202506 --set HS_TIEP_NHAN=41
report save 23320 202506 --set HS_TIEP_NHAN=12

cp "$data/demo/form-bm01.toml" "$work/form-2025.toml"
cat >"$work/plan.toml" <<PLAN
key = "tinh-51-2025"
name = "Chuyển hệ thống báo cáo sang chính quyền địa phương hai cấp"
effective_date = "01/07/2025"
scope = "23317"
source_organization = "Văn phòng UBND tỉnh"
reorganization = "vn-2025-two-level"
forms = ["form-2025.toml"]
regimes = ["regime.toml"]
PLAN
"$bin" cutover apply "$work/plan.toml" --pdf >/dev/null
"$bin" cutover verify tinh-51-2025 >/dev/null
bags=("$work"/luu-tru/tinh-51-2025/*/)
"$venv/bin/python" -m bagit --validate --quiet "${bags[@]}"
echo "bagit-python: ${#bags[@]} bags valid"
for pdf in "$work"/luu-tru/tinh-51-2025/bien-ban-*.pdf; do
  [ "$(head -c 4 "$pdf")" = "%PDF" ] || { echo "not a PDF: $pdf" >&2; exit 1; }
done
pdfs=("$work"/luu-tru/tinh-51-2025/bien-ban-*.pdf)
[ "${#pdfs[@]}" -eq "${#bags[@]}" ] || { echo "${#pdfs[@]} handover PDFs for ${#bags[@]} bags" >&2; exit 1; }
echo "handover records: ${#pdfs[@]} PDFs"
