"""site_certificates with the controller's real openssl, on certificate files in a temporary directory. certbot is
scripted with what it prints when a challenge fails; its real issuance against pebble is proven in molecule/nginx."""

import os
import subprocess

import pytest

from ansible_collections.appstack.platform.plugins.modules import site_certificates
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import Failed, FakeModule

SHOP = {"name": "shop", "server_names": ["shop.test", "www.shop.test"], "acme": True}
CERTBOT_REFUSAL = (
    "Certbot failed to authenticate some domains (authenticator: webroot). The Certificate Authority reported these "
    "problems:\n  Domain: nowhere.test\n  Type:   dns\n  Detail: NXDOMAIN looking up A for nowhere.test\n"
)


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "certs" / "shop").mkdir(parents=True)
    (tmp_path / "live").mkdir()
    return tmp_path


def certificates_module(dirs, check_mode=False, **params):
    params = {"sites": [dict(SHOP)], "certs_dir": str(dirs / "certs"), "live_dir": str(dirs / "live"), **params}
    return FakeModule(site_certificates.argument_spec(), params, check_mode)


def issue_params():
    return {"issue": True, "webroot": "/var/lib/acme", "acme_directory": "https://pebble.test/dir", "email": "a@b.test"}


def issue_certificate(live_site, names):
    """A certificate as certbot leaves it: live/<site>/fullchain.pem and privkey.pem."""
    live_site.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", f"/CN={names[0]}", "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names),
         "-keyout", str(live_site / "privkey.pem"), "-out", str(live_site / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip


def link_of(dirs, name):
    return os.readlink(dirs / "certs" / "shop" / name)


def test_a_new_site_gets_a_placeholder_for_all_its_names_then_nothing_changes(dirs):
    first = site_certificates.run(certificates_module(dirs))
    assert first == {"placeholders": ["shop"], "issued": [], "relinked": ["shop"], "changed": True}
    assert link_of(dirs, "fullchain.pem") == str(dirs / "certs" / "shop" / "placeholder-fullchain.pem")
    assert link_of(dirs, "privkey.pem") == str(dirs / "certs" / "shop" / "placeholder-privkey.pem")
    names = site_certificates.issued_names(certificates_module(dirs), str(dirs / "certs" / "shop" / "fullchain.pem"))
    assert names == ["shop.test", "www.shop.test"]
    again = certificates_module(dirs)
    assert site_certificates.run(again)["changed"] is False
    assert again.commands == [], "no openssl when the placeholder and links are there"


def test_check_mode_reports_and_makes_nothing(dirs):
    module = certificates_module(dirs, check_mode=True)
    assert site_certificates.run(module)["placeholders"] == ["shop"]
    assert module.commands == [] and os.listdir(dirs / "certs" / "shop") == []


def test_the_issued_certificate_replaces_the_placeholder_and_matching_names_need_no_certbot(dirs):
    site_certificates.run(certificates_module(dirs))
    issue_certificate(dirs / "live" / "shop", ["www.shop.test", "shop.test"])
    module = certificates_module(dirs, **issue_params())
    result = site_certificates.run(module)
    assert result == {"placeholders": [], "issued": [], "relinked": ["shop"], "changed": True}
    assert link_of(dirs, "fullchain.pem") == str(dirs / "live" / "shop" / "fullchain.pem")
    assert all(argv[0] == "openssl" for argv in module.commands)


def test_certbot_is_asked_when_the_names_changed_and_its_refusal_keeps_the_old_certificate(dirs):
    site_certificates.run(certificates_module(dirs))
    issue_certificate(dirs / "live" / "shop", ["shop.test"])
    site_certificates.run(certificates_module(dirs))
    module = certificates_module(dirs, **issue_params())
    module.answers["certbot"] = [(1, "", CERTBOT_REFUSAL)]
    with pytest.raises(Failed) as failed:
        site_certificates.run(module)
    message = failed.value.result["msg"]
    assert message.startswith("certbot could not issue the certificate of shop (shop.test, www.shop.test)")
    assert "NXDOMAIN" in message and failed.value.result["issued"] == []
    certbot = module.commands[-1]
    assert certbot[:2] == ["certbot", "certonly"] and certbot[-2:] == ["--domain=shop.test", "--domain=www.shop.test"]
    assert link_of(dirs, "fullchain.pem") == str(dirs / "live" / "shop" / "fullchain.pem")


def test_a_site_without_acme_is_never_issued(dirs):
    module = certificates_module(dirs, sites=[{**SHOP, "acme": False}], **issue_params())
    assert site_certificates.run(module)["issued"] == []
    assert not any(argv[0] == "certbot" for argv in module.commands)
