#!/usr/bin/env python3
"""Random, well-formed examples for the rules with a `check` (rules/github.toml, npm.toml,
pypi.toml, jwt.toml). Every value is made up here; none is a credential.

    scripts/gen-examples.py ghp_ 3      # three GitHub-format tokens with a valid checksum
    scripts/gen-examples.py pypi 2      # two PyPI-format macaroon tokens
    scripts/gen-examples.py jwt 2       # two signed JWTs without `exp`
"""
import base64, json, secrets, sys, zlib

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
GMP = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def b62_6(n):
    out = ""
    for _ in range(6):
        out = GMP[n % 62] + out
        n //= 62
    return out


def checksummed(prefix):
    body = "".join(secrets.choice(ALNUM) for _ in range(30))
    return prefix + body + b62_6(zlib.crc32(body.encode()))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def packet(tag, value):
    n, out = len(value), bytearray([tag])
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + value


def pypi(location="pypi.org"):
    ident = json.dumps({"version": 1, "id": secrets.token_hex(16)}).encode()
    caveat = json.dumps({"version": 1, "permissions": "user"}).encode()
    raw = bytes([2]) + packet(1, location.encode()) + packet(2, ident) + b"\0"
    raw += packet(2, caveat) + b"\0" + b"\0" + packet(6, secrets.token_bytes(32))
    return "pypi-" + b64(raw)


def jwt():
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": secrets.token_hex(6), "role": "service", "iat": 1700000000}
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{b64(secrets.token_bytes(32))}"


if __name__ == "__main__":
    kind, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
    for _ in range(count):
        if kind == "pypi":
            print(pypi())
        elif kind == "testpypi":
            print(pypi("test.pypi.org"))
        elif kind == "jwt":
            print(jwt())
        else:
            print(checksummed(kind))
