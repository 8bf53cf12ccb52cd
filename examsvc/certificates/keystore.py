"""The signing keys in a folder: private keys as PEM files, public keys as the JWK set.

Layout of the folder (``CERT_KEYS_DIR``, by default ``<instance>/cert-keys``; never the
database, never the repository)::

    examsvc-keys.json   the JWK set of every key, active and retired (see ``keys``), served
                        as /.well-known/examsvc-keys.json; public
    <kid>.pem           the private key of ``kid``, PKCS#8 PEM, mode 0600
    .lock               taken while keys are generated or rotated

The folder is created with mode 0700. A private key file readable by group or others is
refused, as ssh refuses one. Writes are crash-safe: a new PEM file is written before the JWK set
names it, and the JWK set is replaced atomically, so an interrupted rotation leaves the old
active key in place (and at worst an unused PEM file).

Back up the whole folder: losing a private key only stops new signing (rotate), but losing the
JWK set loses the windows of the retired keys.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from .keys import (
    KeySet,
    KeySetError,
    PublicKey,
    SigningKey,
    key_id,
    load_jwks,
    raw_public,
    require_aware,
)

JWKS_NAME = "examsvc-keys.json"
LOCK_NAME = ".lock"


class KeyStoreError(RuntimeError):
    """The key folder cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class StoredKey:
    """A key of the folder and whether its private half is there."""

    public: PublicKey
    private_file: Path | None  # None: only the public key is kept (e.g. a retired key removed)


class KeyStore:
    """The keys in ``folder``: generate the first, rotate to a new one, list them, sign."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def jwks_path(self) -> Path:
        return self.folder / JWKS_NAME

    def _pem(self, kid: str) -> Path:
        return self.folder / f"{kid}.pem"

    def keyset(self) -> KeySet:
        """The public keys; an empty set when none was generated yet."""
        if not self.jwks_path.exists():
            return KeySet(())
        try:
            return load_jwks(self.jwks_path.read_bytes(), str(self.jwks_path))
        except KeySetError as exc:
            raise KeyStoreError(f"{exc}；请从备份恢复 {self.jwks_path}") from exc

    def list_keys(self) -> list[StoredKey]:
        """Every key, oldest first."""
        keys = sorted(self.keyset().keys, key=lambda k: k.valid_from)
        return [StoredKey(k, p if (p := self._pem(k.kid)).exists() else None) for k in keys]

    def generate(self, now: datetime) -> PublicKey:
        """The first key of the folder, active from ``now``; refused if there is one already."""
        require_aware(now, "生成时间")
        now = now.replace(microsecond=0)  # the JWK set keeps whole seconds
        with self._locked():
            if self.keyset().keys or any(self.folder.glob("*.pem")):
                raise KeyStoreError(
                    f"{self.folder} 中已有签名密钥：要换用新密钥请运行 examsvc keys rotate"
                    "（旧密钥会停用，但仍可验证它签发的证书）"
                )
            return self._add(KeySet(()), now)

    def rotate(self, now: datetime) -> PublicKey:
        """A new active key from ``now``; the active one is retired at ``now`` and kept."""
        require_aware(now, "轮换时间")
        now = now.replace(microsecond=0)
        with self._locked():
            keyset = self.keyset()
            current = keyset.active
            if current is None:
                raise KeyStoreError(
                    f"{self.folder} 中没有当前签名密钥：请先运行 examsvc keys generate"
                )
            if now < current.valid_from:
                raise KeyStoreError(
                    f"轮换时间 {now.isoformat()} 早于当前密钥 {current.kid} 的启用时间 "
                    f"{current.valid_from.isoformat()}：请检查服务器时钟"
                )
            retired = replace(current, valid_until=now)
            keys = tuple(retired if k.kid == current.kid else k for k in keyset.keys)
            return self._add(KeySet(keys), now)

    def signing_key(self) -> SigningKey:
        """The private key of the active key, checked against the published public key."""
        active = self.keyset().active
        if active is None:
            raise KeyStoreError(f"{self.folder} 中没有签名密钥：请先运行 examsvc keys generate")
        path = self._pem(active.kid)
        if not path.exists():
            raise KeyStoreError(
                f"当前密钥 {active.kid} 的私钥文件 {path} 不存在：请从备份恢复，"
                "或运行 examsvc keys rotate 换用新密钥"
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyStoreError(
                f"私钥文件 {path} 的权限 {mode:04o} 过宽，其他用户可读：请运行 chmod 600 {path}"
            )
        private = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey) or raw_public(
            private.public_key()
        ) != raw_public(active.key):
            raise KeyStoreError(
                f"私钥文件 {path} 与 {JWKS_NAME} 中 kid {active.kid} 的公钥不匹配：请从备份恢复"
            )
        return SigningKey(active.kid, private)

    def _add(self, keyset: KeySet, now: datetime) -> PublicKey:
        private = Ed25519PrivateKey.generate()
        public = PublicKey(key_id(private.public_key()), private.public_key(), now)
        pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        fd = os.open(self._pem(public.kid), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)  # whatever the umask
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        self._write_jwks(KeySet((*keyset.keys, public)))
        return public

    def _write_jwks(self, keyset: KeySet) -> None:
        temporary = self.jwks_path.with_suffix(".json.tmp")
        with temporary.open("w", encoding="utf-8") as f:
            f.write(keyset.dumps())
            f.flush()
            os.fsync(f.fileno())
        temporary.chmod(0o644)
        os.replace(temporary, self.jwks_path)
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Two rotations at once would both retire the same key and leave two active ones.
        if not self.folder.exists():
            self.folder.mkdir(parents=True, mode=0o700)
            self.folder.chmod(0o700)
        with (self.folder / LOCK_NAME).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
