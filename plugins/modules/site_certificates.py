#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: site_certificates
short_description: Give nginx sites a self-signed placeholder certificate, then the one certbot issues
version_added: 0.1.0
description:
  - For each of O(sites), in one call to the host; C(<certs_dir>/<site>/fullchain.pem) and C(privkey.pem) are the
    symbolic links nginx reads, so a site's configuration never changes when its certificate does.
  - Makes the site's self-signed placeholder (30 days, every server name) when it has none, and points the links at
    the issued certificate in O(live_dir) once there is one, else at the placeholder.
  - With O(issue), first asks certbot for the certificate of each site with O(sites[].acme) whose issued one is
    missing or names other server names (HTTP-01 through O(webroot), which nginx must serve already). A site
    certbot fails for keeps the certificate it had; the task fails after the other sites are done, with certbot's
    output.
author: appstack.platform maintainers (@appstack)
attributes:
  check_mode:
    support: full
    description: Reports the placeholders it would make, the certificates it would ask for and the links it would
      change; runs neither openssl nor certbot.
  diff_mode:
    support: none
    description: Reports no diff; the returned lists name the sites.
options:
  sites:
    description: The sites.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The site's name (its directory under O(certs_dir), certbot's certificate name).
        type: str
        required: true
      server_names:
        description: The names the certificate is for; the first is the placeholder's subject.
        type: list
        elements: str
        required: true
      acme:
        description: Whether certbot issues the site's certificate.
        type: bool
        default: false
  certs_dir:
    description: Where each site's directory is (made by the caller, readable by root only).
    type: path
    required: true
  live_dir:
    description: certbot's directory of issued certificates.
    type: path
    default: /etc/letsencrypt/live
  issue:
    description: Ask certbot for the certificates of ACME sites that need one.
    type: bool
    default: false
  webroot:
    description: The directory nginx serves C(/.well-known/acme-challenge/) from. Required with O(issue).
    type: path
  acme_directory:
    description: The ACME server's directory URL. Required with O(issue).
    type: str
  email:
    description: The account's contact address. Required with O(issue).
    type: str
"""

EXAMPLES = r"""
- name: Give each site a placeholder certificate, or its issued one
  appstack.platform.site_certificates:
    sites: [{name: shop, server_names: [shop.example.com, www.shop.example.com], acme: true}]
    certs_dir: /etc/nginx/appstack/certs
  notify: Reload nginx

- name: Issue the certificates of ACME sites (after nginx serves the challenge directory)
  appstack.platform.site_certificates:
    sites: [{name: shop, server_names: [shop.example.com, www.shop.example.com], acme: true}]
    certs_dir: /etc/nginx/appstack/certs
    issue: true
    webroot: /var/lib/appstack/acme-challenge
    acme_directory: https://acme-v02.api.letsencrypt.org/directory
    email: ops@example.com
  notify: Reload nginx
"""

RETURN = r"""
placeholders:
  description: Sites given a new placeholder certificate.
  returned: always
  type: list
  elements: str
issued:
  description: Sites certbot issued a certificate for (or would be asked to, in check mode).
  returned: always
  type: list
  elements: str
relinked:
  description: Sites whose links now point at another certificate.
  returned: always
  type: list
  elements: str
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

CERTIFICATE_FILES = ("fullchain.pem", "privkey.pem")


def argument_spec():
    return {
        "sites": {
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {
                "name": {"type": "str", "required": True},
                "server_names": {"type": "list", "elements": "str", "required": True},
                "acme": {"type": "bool", "default": False},
            },
        },
        "certs_dir": {"type": "path", "required": True},
        "live_dir": {"type": "path", "default": "/etc/letsencrypt/live"},
        "issue": {"type": "bool", "default": False},
        "webroot": {"type": "path"},
        "acme_directory": {"type": "str"},
        "email": {"type": "str"},
    }


def make_placeholder(module, site, directory):
    rc, _out, err = module.run_command(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "30", "-subj", f"/CN={site['server_names'][0]}",
            "-addext", "subjectAltName=" + ",".join(f"DNS:{name}" for name in site["server_names"]),
            "-keyout", os.path.join(directory, "placeholder-privkey.pem"),
            "-out", os.path.join(directory, "placeholder-fullchain.pem"),
        ],
        handle_exceptions=False,
    )  # fmt: skip
    if rc != 0:
        module.fail_json(
            msg=f"openssl could not make the placeholder certificate of site {site['name']}: {err.strip()}"
        )


def issued_names(module, certificate):
    """The DNS names of an issued certificate; None when there is none (or openssl cannot read it)."""
    if not os.path.exists(certificate):
        return None
    rc, out, _err = module.run_command(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", certificate], handle_exceptions=False
    )
    return sorted(re.findall(r"DNS:([^,\s]+)", out)) if rc == 0 else None


def certbot_argv(params, site):
    return [
        "certbot", "certonly", "--non-interactive", "--agree-tos", "--webroot",
        "--webroot-path", params["webroot"], "--cert-name", site["name"], "--server", params["acme_directory"],
        "--email", params["email"], "--no-random-sleep-on-renew",
        *(f"--domain={name}" for name in site["server_names"]),
    ]  # fmt: skip


def relink(directory, target_directory, prefix, check_mode):
    """Point the site's links at target_directory/<prefix><file>; True when one pointed elsewhere."""
    changed = False
    for name in CERTIFICATE_FILES:
        link, target = os.path.join(directory, name), os.path.join(target_directory, prefix + name)
        if os.path.islink(link) and os.readlink(link) == target:
            continue
        changed = True
        if not check_mode:
            # A new link renamed over the old one: nginx never finds the file missing.
            candidate = link + ".new"
            if os.path.lexists(candidate):
                os.remove(candidate)
            os.symlink(target, candidate)
            os.rename(candidate, link)
    return changed


def run(module):
    params = module.params
    result = {"placeholders": [], "issued": [], "relinked": []}
    refused = []
    for site in params["sites"]:
        names = ", ".join(site["server_names"])
        directory = os.path.join(params["certs_dir"], site["name"])
        live = os.path.join(params["live_dir"], site["name"])
        if not os.path.exists(os.path.join(directory, "placeholder-fullchain.pem")):
            result["placeholders"].append(site["name"])
            if not module.check_mode:
                make_placeholder(module, site, directory)
        issued = os.path.join(live, "fullchain.pem")
        if params["issue"] and site["acme"] and issued_names(module, issued) != sorted(set(site["server_names"])):
            result["issued"].append(site["name"])
            if not module.check_mode:
                rc, out, err = module.run_command(certbot_argv(params, site), handle_exceptions=False)
                if rc != 0:
                    result["issued"].remove(site["name"])
                    refused.append(
                        f"certbot could not issue the certificate of {site['name']} ({names}); nginx keeps serving the"
                        f" certificate it had. certbot said: {err.strip()} {out.strip()}"
                    )
        if os.path.exists(issued):
            changed = relink(directory, live, "", module.check_mode)
        else:
            changed = relink(directory, directory, "placeholder-", module.check_mode)
        if changed:
            result["relinked"].append(site["name"])
    result["changed"] = any(result.values())
    if refused:
        module.fail_json(msg="\n".join(refused), **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("issue", True, ("webroot", "acme_directory", "email"))],
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
