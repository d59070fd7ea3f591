"""The account form's POST data for a stored account (its servers kept: no password needed, no host check), with
its identities as they are (the formset's management fields included)."""


def account_form_data(account, **changes) -> dict:
    data = {
        "address": account.address, "display_name": account.display_name, "signature": account.signature,
        "incoming_protocol": account.incoming_protocol, "incoming_host": account.incoming_host,
        "incoming_security": account.incoming_security, "incoming_port": account.incoming_port,
        "incoming_username": account.incoming_username, "incoming_password": "",
        "poll_interval_minutes": account.poll_interval_minutes or "",
        "on_server": "delete" if account.delete_after_download else ("days" if account.delete_after_days else "keep"),
        "delete_after_days": account.delete_after_days or "", "imap_folders": "\n".join(account.imap_folders or []),
        "smtp_host": account.smtp_host, "smtp_security": account.smtp_security, "smtp_port": account.smtp_port,
        "smtp_auth": "password" if account.smtp_username else "none", "smtp_username": account.smtp_username,
        "smtp_password": "",
    }
    identities = list(account.identities.all()) if account.pk else []
    data.update({"identities-TOTAL_FORMS": str(len(identities)), "identities-INITIAL_FORMS": str(len(identities)),
                 "identities-MIN_NUM_FORMS": "0", "identities-MAX_NUM_FORMS": "20"})
    for n, identity in enumerate(identities):
        data.update({f"identities-{n}-id": str(identity.id), f"identities-{n}-name": identity.name,
                     f"identities-{n}-address": identity.address, f"identities-{n}-signature": identity.signature})
    data.update(changes)
    return data
