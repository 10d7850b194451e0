# A real SMTP server for the lab: Python's smtpd (HELO/EHLO, MAIL, RCPT, DATA, QUIT over TCP, as
# any MTA speaks them) that delivers every message it accepts to a file, one JSON line each:
# {"peer": ..., "mailfrom": ..., "rcpttos": [...], "data": "..."}.
# usage: python3 -W ignore::DeprecationWarning smtp-sink.py ADDRESS PORT OUT
import asyncore
import json
import smtpd
import sys

address, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        with open(out, "a") as f:
            f.write(json.dumps({"peer": peer[0], "mailfrom": mailfrom, "rcpttos": rcpttos, "data": data.decode("utf-8", "replace")}) + "\n")
        return None


Sink((address, port), None, decode_data=False)
asyncore.loop()
