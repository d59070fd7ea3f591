"""The attachment limit, applied while the upload arrives: past COMPOSE_MAX_ATTACHMENT_BYTES the rest of the files
is read and dropped, never stored in memory or on disk (the form then says so beside the field)."""
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class CappedUploadHandler(FileUploadHandler):
    """First of the request's upload handlers: counts the bytes of all its files together."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit, self.total, self.over = limit, 0, False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.over:
            raise SkipFile()

    def receive_data_chunk(self, raw_data, start):
        self.total += len(raw_data)
        if self.total > self.limit:
            self.over = True
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler stores the file
