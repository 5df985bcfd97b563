"""An independent SAML identity provider for orgd's end-to-end test.

pysaml2 (Debian's python3-pysaml2) with xmlsec1 (libxmlsec1, C) signs the
responses: nothing of crewjam/saml or goxmldsig is involved on this side.

    pysaml2_idp.py metadata WORKDIR                  -> IdP metadata on stdout
    pysaml2_idp.py respond WORKDIR SP_MD SAMLREQ EMAIL -> base64 SAMLResponse on stdout
    pysaml2_idp.py respond-sha1 …                      -> the same, signed with RSA-SHA1

WORKDIR holds idp.key and idp.crt (PEM), made by the Go test.
"""
import base64
import os
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

ENTITY = "https://pysaml2-idp.test/metadata"
SSO = "https://pysaml2-idp.test/sso"


def config(workdir, sp_metadata=None):
    c = {
        "entityid": ENTITY,
        "service": {
            "idp": {
                "endpoints": {"single_sign_on_service": [(SSO, BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
            }
        },
        "key_file": os.path.join(workdir, "idp.key"),
        "cert_file": os.path.join(workdir, "idp.crt"),
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"local": [sp_metadata]} if sp_metadata else {},
    }
    cnf = IdPConfig()
    cnf.load(c)
    return cnf


def main():
    mode, workdir = sys.argv[1], sys.argv[2]
    if mode == "metadata":
        print(str(entity_descriptor(config(workdir))))
        return
    sp_md, saml_request, email = sys.argv[3], sys.argv[4], sys.argv[5]
    srv = Server(config=config(workdir, sp_md))
    req = srv.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
    args = srv.response_args(req, [BINDING_HTTP_POST])
    resp = srv.create_authn_response(
        identity={"mail": [email]},
        userid=email,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
        authn={"class_ref": PASSWORDPROTECTEDTRANSPORT, "authn_auth": ENTITY},
        sign_response=True,
        sign_assertion=True,
        # pysaml2 defaults to RSA-SHA1, which orgd refuses
        sign_alg=SIG_RSA_SHA1 if mode == "respond-sha1" else SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA1 if mode == "respond-sha1" else DIGEST_SHA256,
        **args,
    )
    sys.stdout.write(base64.b64encode(str(resp).encode()).decode())


if __name__ == "__main__":
    main()
