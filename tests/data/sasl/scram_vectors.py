#!/usr/bin/env python3
"""Computes SCRAM test vectors with Python's hashlib/hmac, independently of the C++ code.

RFC 7677 gives a SCRAM-SHA-256 example but no RFC has one for SCRAM-SHA-512; the vectors
printed here are pasted into tests/unit/sasl_test.cpp. Run: python3 scram_vectors.py
"""
import base64
import hashlib
import hmac


def escape(user):
    return user.replace("=", "=3D").replace(",", "=2C")


def scram(hash_name, user, password, client_nonce, server_nonce, salt, iterations):
    client_first_bare = f"n={escape(user)},r={client_nonce}"
    server_first = f"r={client_nonce}{server_nonce},s={base64.b64encode(salt).decode()},i={iterations}"
    final_wo_proof = f"c=biws,r={client_nonce}{server_nonce}"
    salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    stored_key = hashlib.new(hash_name, client_key).digest()
    auth_message = f"{client_first_bare},{server_first},{final_wo_proof}".encode()
    client_sig = hmac.new(stored_key, auth_message, hash_name).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
    server_key = hmac.new(salted, b"Server Key", hash_name).digest()
    server_sig = hmac.new(server_key, auth_message, hash_name).digest()
    return {
        "client_first": f"n,,{client_first_bare}",
        "server_first": server_first,
        "client_final": f"{final_wo_proof},p={base64.b64encode(proof).decode()}",
        "server_final": f"v={base64.b64encode(server_sig).decode()}",
    }


def show(title, v):
    print(f"// {title}")
    for k, s in v.items():
        print(f'  {k}: "{s}"')


# RFC 7677 §3 inputs (the output must equal the RFC's example).
show("SCRAM-SHA-256, RFC 7677", scram("sha256", "user", "pencil", "rOprNGfwEbeRWgbNEkqO",
                                       "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                                       base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096))
show("SCRAM-SHA-512, same inputs", scram("sha512", "user", "pencil", "rOprNGfwEbeRWgbNEkqO",
                                          "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                                          base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096))
show("SCRAM-SHA-512, escaped user name, 8192 iterations",
     scram("sha512", "a,b=c", "s3cr3t-p\u00e4ss", "clientNONCE123", "serverPart456",
           b"0123456789abcdef", 8192))
