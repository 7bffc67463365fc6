"""The import pages' form: a CSV or NACHA file upload, read as UTF-8 text
with its SHA-256."""

import hashlib

from django import forms

MAX_UPLOAD = 20 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label="File")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError("The file is larger than 20 MB.")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        self.text = text
        self.sha256 = hashlib.sha256(raw).hexdigest()
        return upload
