"""E-mail to partners, through an SMTP server the program already has (the company's mail provider,
or a transactional service's SMTP relay): stdlib smtplib, STARTTLS by default. It never retries by
itself: a failed message is recorded and the sweep sends it again (handlers/sweep.py)."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

from dealreg.errors import DeliveryFailed


class Mailer:
    channel = "email"

    def __init__(self, host: str, *, port: int = 587, username: str = "", password: str = "", sender: str,
                 starttls: bool = True, timeout: float = 10.0) -> None:
        self.host, self.port, self.username, self.password = host, port, username, password
        self.sender, self.starttls, self.timeout = sender, starttls, timeout

    def send(self, to: str, subject: str, text: str) -> None:
        """One plain-text message; DeliveryFailed saying what the server answered (`permanent` for a
        refused login or recipient, which a person must fix)."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"the SMTP server refused the login ({exc.smtp_code}): check DEALREG_SMTP_USERNAME "
                                 f"and DEALREG_SMTP_PASSWORD", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"the SMTP server refused {to} ({exc.recipients}): fix the partner's contact_email "
                                 f"in the Partners list", permanent=True) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryFailed(f"the SMTP server {self.host}:{self.port} offers no STARTTLS: set "
                                 f"DEALREG_SMTP_STARTTLS=false only if it is on a trusted network", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"the SMTP server answered {exc.smtp_code} {exc.smtp_error!r}",
                                 permanent=500 <= exc.smtp_code < 600) from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise DeliveryFailed(f"the SMTP server {self.host}:{self.port} did not take the message: {exc}") from None
