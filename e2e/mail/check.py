"""Reads what a real SMTP server received from baocao and follows the links.

Usage: check.py BASE_URL TOKEN MAILDIR first|notice|again

`first`: a provisioning client creates an account with an official
address; its activation mail arrives (Vietnamese subject, plain text and
HTML parts), its link sets the password, the account signs in; «forgot
password» mails a reset link that sets a new one; the account then enrols
a second factor and signs in with a code computed by pyotp, an RFC 6238
implementation independent of baocao's. `notice`: an administrator runs
the day's reminders from the jobs page and the account, which manages
plans, gets the notice of a task due today by mail. `again` (after a
restart on the same database): nothing was sent twice.
"""
import html
import email
import http.cookiejar
import json
import mailbox
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email import policy

import pyotp

base, token, maildir, phase = sys.argv[1:]
ADDRESS = "an.nv@tinh-thu.gov.vn"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def fail(message):
    print(f"mail check failed: {message}", file=sys.stderr)
    sys.exit(1)


def messages():
    box = mailbox.Maildir(maildir, factory=None, create=False)
    return [email.message_from_bytes(box.get_bytes(key), policy=policy.default) for key in sorted(box.keys())]


def wait_for(count, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = messages()
        if len(found) >= count:
            return found
        time.sleep(0.3)
    fail(f"{len(messages())} messages arrived, expected {count}")


class Stay(urllib.request.HTTPRedirectHandler):
    """Redirects are checked, not followed."""

    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(Stay, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def call(method, path, data=None, headers=None):
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read().decode()


def link_token(message, path):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    found = re.search(re.escape(base + path) + r"\?token=([0-9a-f]{64})", text)
    if not found:
        fail(f"no {path} link in the plain text part:\n{text}")
    if found.group(0) not in html:
        fail(f"the HTML part does not carry the same link:\n{html}")
    return found.group(1)


def set_password(path, token_, password, done):
    status, _, page = call("GET", f"{path}?token={token_}")
    if status != 200:
        fail(f"GET {path}: {status}\n{page}")
    form = urllib.parse.urlencode({"token": token_, "password": password, "confirm": password}).encode()
    status, headers, page = call("POST", path, form, FORM)
    if status != 303 or headers["Location"] != f"/login?done={done}":
        fail(f"POST {path}: {status} {headers.get('Location')}\n{page}")
    status, _, _ = call("POST", path, form, FORM)
    if status != 410:
        fail(f"a used {path} link answered {status}, not 410")


def signs_in(username, password):
    form = urllib.parse.urlencode({"username": username, "password": password, "next": "/"}).encode()
    status, headers, _ = call("POST", "/login", form, FORM)
    return status == 303 and headers["Location"] == "/"


def enrol_and_sign_in_with_a_code(username, password):
    """Enrols a second factor on the security page with pyotp's codes, then
    signs in with the password and the next code."""
    status, _, page = call("GET", "/account/security")
    secret = re.search(r'<code id="secret">([A-Z2-7]+)</code>', page)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page)
    if status != 200 or not secret or not csrf or "<svg" not in page:
        fail(f"no key offered on the security page: {status}\n{page}")
    totp = pyotp.TOTP(secret.group(1))
    form = urllib.parse.urlencode({"_csrf": html.unescape(csrf.group(1)), "code": totp.now()}).encode()
    status, _, page = call("POST", "/account/security/totp", form, FORM)
    if status != 200 or 'id="recovery"' not in page:
        fail(f"enrolment refused pyotp's code: {status}\n{page}")
    form = urllib.parse.urlencode({"username": username, "password": password, "next": "/"}).encode()
    status, headers, _ = call("POST", "/login", form, FORM)
    if status != 303 or not headers["Location"].startswith("/login/code"):
        fail(f"the password alone should lead to the code: {status} {headers.get('Location')}")
    # The code just used is spent: the next step's, which a phone one step ahead shows.
    code = totp.at(time.time() + 30)
    status, headers, page = call("POST", "/login/code", urllib.parse.urlencode({"code": code, "next": "/"}).encode(), FORM)
    if status != 303 or headers["Location"] != "/":
        fail(f"pyotp's code did not sign in: {status}\n{page}")


def expect(message, subject):
    if message["Subject"] != subject:
        fail(f"subject {message['Subject']!r}, expected {subject!r}")
    if ADDRESS not in message["To"] or "baocao@tinh-thu.gov.vn" not in message["From"]:
        fail(f"from {message['From']!r} to {message['To']!r}")
    if message.get_content_type() != "multipart/alternative":
        fail(f"{message.get_content_type()}, expected multipart/alternative")


if phase == "first":
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": ADDRESS,
        "displayName": "Nguyễn Văn An",
    }
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    status, _, body = call("POST", "/scim/v2/Users", json.dumps(user).encode(), headers)
    if status != 201:
        fail(f"SCIM create: {status}\n{body}")
    activation = wait_for(1)[0]
    expect(activation, "Kích hoạt tài khoản Hệ thống thông tin báo cáo")
    if "Kính gửi Nguyễn Văn An," not in activation.get_body(preferencelist=("plain",)).get_content():
        fail("the activation mail does not greet its recipient")
    if signs_in(ADDRESS, "ngua vang qua cau tre"):
        fail("signed in before activation")
    set_password("/activate", link_token(activation, "/activate"), "ngua vang qua cau tre", "activation")
    if not signs_in(ADDRESS, "ngua vang qua cau tre"):
        fail("cannot sign in with the password set from the activation mail")
    status, _, _ = call("POST", "/forgot", urllib.parse.urlencode({"who": ADDRESS}).encode(), FORM)
    if status != 200:
        fail(f"forgot: {status}")
    reset = wait_for(2)[1]
    expect(reset, "Đặt lại mật khẩu Hệ thống thông tin báo cáo")
    set_password("/reset", link_token(reset, "/reset"), "song da chay ve xuoi", "reset")
    if signs_in(ADDRESS, "ngua vang qua cau tre") or not signs_in(ADDRESS, "song da chay ve xuoi"):
        fail("the reset did not replace the password")
    print("mail: activation and reset links arrived through SMTP and worked")
    enrol_and_sign_in_with_a_code(ADDRESS, "song da chay ve xuoi")
    print("second factor: enrolled and signed in with pyotp's codes")
elif phase == "notice":
    status, headers, body = call("POST", "/admin/jobs/notifications/run", b"", {"Authorization": f"Bearer {token}"})
    if status != 303:
        fail(f"run the reminders now: {status}\n{body}")
    notice = wait_for(3)[2]
    expect(notice, "Nhiệm vụ 1 (Kế hoạch 1/KH-UBND): hôm nay đến hạn")
    text = notice.get_body(preferencelist=("plain",)).get_content()
    if "Kích hoạt tài khoản cán bộ xã mới" not in text or f"{base}/tasks" not in text:
        fail(f"the notice does not say which task or where to see it:\n{text}")
    if f'href="{base}/tasks"' not in notice.get_body(preferencelist=("html",)).get_content():
        fail("the HTML part does not link to the plans' page")
    print("notices: the day's reminders mailed a task due today")
else:
    # Longer than the worker's poll: anything it would resend has gone.
    time.sleep(6)
    found = messages()
    ids = {m["Message-ID"] for m in found}
    if len(found) != 3 or len(ids) != 3:
        fail(f"{len(found)} messages ({len(ids)} distinct) after a restart, expected the same 3")
    print("mail: nothing sent twice after a restart")
