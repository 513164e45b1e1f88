"""Schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

POST /api/v1/agreements takes a TOML document (`application/toml`), which has no JSON Schema
that schemathesis could generate from: it gets the example agreements, cut short or with a byte
changed, and arbitrary bytes.
"""

import pathlib

import schemathesis
from hypothesis import strategies as st

EXAMPLES = [
    p.read_bytes() for p in sorted((pathlib.Path(__file__).parent.parent / "examples" / "agreements").glob("*.toml"))
]


@st.composite
def damaged(draw):
    text = bytearray(draw(st.sampled_from(EXAMPLES)))
    if draw(st.booleans()):
        del text[draw(st.integers(0, len(text))) :]
    else:
        text[draw(st.integers(0, len(text) - 1))] = draw(st.integers(0, 255))
    return bytes(text)


schemathesis.openapi.media_type(
    "application/toml",
    st.one_of(st.sampled_from(EXAMPLES), damaged(), st.binary(max_size=4096)),
)


# Random path values are almost never a customer or an account that exists, so most requests
# would end at `customer_not_found` or `tenant_mismatch`. Half of them get the demo customer whose
# administrator runs one of the two passes, and small account numbers that exist.
CUSTOMER = "bakkerij-de-vries"


@schemathesis.hook
def flatmap_path_parameters(ctx, path):
    if not path:
        return st.just(path)
    real = dict(path)
    if "customer" in real:
        real["customer"] = CUSTOMER
    if "account" in real:
        return st.one_of(st.just(path), st.integers(1, 4).map(lambda n: {**real, "account": n}))
    return st.sampled_from([path, real])
