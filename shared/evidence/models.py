"""Request and message models of the evidence operations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.validation import Id

# The body cap (MAX_BODY_BYTES, 1 MiB) bounds the bundle; these bound what a signature can hold. An ed25519
# public key PEM has 113 characters and a signature 88 base64 characters: the limits leave room for
# whitespace and a retired key's comment, and refuse (400) anything that cannot be one.
MAX_BUNDLE_CHARS = 1_048_576
MAX_PEM_CHARS = 8_192
MAX_SIGNATURE_CHARS = 1_024
MAX_KEY_ID_CHARS = 128


class VerifySignature(BaseModel):
    """The signature to check: ed25519, the public key it claims, the signature bytes (base64)."""

    # A pack's whole signature object may be pasted: its publicKeyId is checked against the key.
    model_config = ConfigDict(extra="ignore", strict=True)

    algorithm: Literal["ed25519"]
    publicKeyPem: str = Field(max_length=MAX_PEM_CHARS)
    signatureB64: str = Field(max_length=MAX_SIGNATURE_CHARS)
    publicKeyId: str | None = Field(default=None, max_length=MAX_KEY_ID_CHARS)


class VerifyBody(BaseModel):
    """A bundle (the exact canonical string, or the bundle object) and its signature."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    bundle: Annotated[str, Field(max_length=MAX_BUNDLE_CHARS)] | dict[str, Any] = Field(alias="json")
    signature: VerifySignature


class IndexMessage(BaseModel):
    """A session whose evidence index row should be recomputed (queued by finalize and new packs)."""

    model_config = ConfigDict(extra="ignore")

    tenantId: Id
    sessionId: Id
