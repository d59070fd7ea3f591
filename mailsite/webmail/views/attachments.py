"""Attachment downloads: served so that no browser renders or runs them on the site's origin."""
import unicodedata
from urllib.parse import quote

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from mailsite.webmail import selectors

# Types a browser may be given as they are; everything else downloads as application/octet-stream.
# Images and PDF must also start like one (an "image/png" that is HTML is not served as image/png).
_SAFE_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "text/plain": None,
}


def download_type(content_type: str, head: bytes) -> str:
    magic = _SAFE_TYPES.get(content_type, ())
    if magic is None:
        return "text/plain"
    if magic and head.startswith(magic):
        return content_type
    return "application/octet-stream"


def attachment_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the real one as filename* (UTF-8, percent-encoded)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\%;' else "_" for c in fallback).strip(" .") or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stored_file(attachment, *, missing: str):
    """(open handle, its first 16 bytes) of an attachment's stored file; Http404(missing) if it is gone."""
    try:
        handle = default_storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        raise Http404(missing) from None
    head = handle.read(16)
    handle.seek(0)
    return handle, head


def inert(response, *, cache: str):
    """Bytes of a message served as they are: never sniffed, and even if a browser rendered them they would run
    nothing and reach nothing of the site."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = cache
    return response


@require_GET
def attachment_download(request, attachment_id: int):
    attachment = selectors.attachment_get(user=request.user, attachment_id=attachment_id)
    handle, head = stored_file(attachment, missing="This attachment's file is missing.")
    response = FileResponse(handle, content_type=download_type(attachment.content_type, head))
    response["Content-Disposition"] = attachment_disposition(attachment.safe_filename)
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return inert(response, cache="private, no-store")
