"""What a stored file is, judged by its content alone, and how it is handed to a browser: only PDFs and
raster images inline, everything else a download, never typed by the uploader or the file name."""
import pytest
from django.core.files.base import ContentFile

from portal import files

SVG_SCRIPT = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>parent.x=1</script></svg>'


@pytest.mark.parametrize("head,expected", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", files.PDF),
    (b"\r\n  %PDF-1.4 after a few bytes of junk", files.PDF),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", files.PNG),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", files.JPEG),
    (b"GIF89a\x01\x00", files.GIF),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", files.WEBP),
    (b"II*\x00\x08\x00", files.TIFF),
    (b"PK\x03\x04\x14\x00", files.ZIP),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", files.OLE),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", files.UNKNOWN),
    (b"<html><body><script>fetch('/api/v1/me/')</script>", files.HTML),
    (b"\n\n  <!DOCTYPE html>\n<title>x</title>", files.HTML),
    (b"<!-- hello --><script>alert(1)</script>", files.HTML),
    (b"<svg onload=alert(1)>", files.SVG),
    (SVG_SCRIPT, files.SVG),
    (b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg/>', files.SVG),
    (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script/></html>', files.HTML),
    (b'<?xml version="1.0"?><x:root xmlns:x="u" xmlns:h="http://www.w3.org/1999/xhtml"><h:script/></x:root>',
     files.HTML),
    (b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="x.xsl"?><Invoice/>', files.HTML),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice xmlns:rsm="urn:x">', files.XML),
    (b'\xef\xbb\xbf<?xml version="1.0"?><!-- ERP export --><Invoice xmlns="urn:oasis">', files.XML),
    ('<?xml version="1.0" encoding="UTF-16"?><Invoice/>'.encode("utf-16"), files.XML),
    (b"From: kunde@example.org\r\nTo: service@muster.de\r\nSubject: Rechnung\r\n\r\nHallo", files.EMAIL),
    (b"Lieferschein Nr. 3\nMenge 4", files.TEXT),
    ("Grüße aus München".encode("cp1252"), files.TEXT),
    (b"a;b;c\n1;2;3\n", files.TEXT),
    (b"Text mentioning <script> later is still text, never shown inline", files.TEXT),
])
def test_the_type_comes_from_the_first_bytes(head, expected):
    assert files.sniff(head) == expected


@pytest.mark.parametrize("content_type,served", [
    (files.PDF, files.PDF), (files.PNG, files.PNG), (files.JPEG, files.JPEG), (files.GIF, files.GIF),
    (files.WEBP, files.WEBP), (files.SVG, files.UNKNOWN), (files.HTML, files.UNKNOWN), (files.XML, files.UNKNOWN),
    (files.TEXT, files.UNKNOWN), (files.EMAIL, files.UNKNOWN), (files.TIFF, files.UNKNOWN), (files.ZIP, files.UNKNOWN),
])
def test_only_pdfs_and_raster_images_are_served_as_themselves(content_type, served):
    assert files.served_type(content_type) == served


def _stored(data: bytes, name: str):
    """A stored file as the views get it from a FileField: something to open for reading."""
    return ContentFile(data, name=name)


@pytest.mark.parametrize("data,name", [
    (b"<html><script>document.title='pwned'</script></html>", "rechnung.pdf"),
    (SVG_SCRIPT, "logo.png"),
    (b'<?xml version="1.0"?><a:script xmlns:a="http://www.w3.org/1999/xhtml">alert(1)</a:script>', "x.xml"),
    (b"plain text", "notiz.html"),
])
def test_anything_but_pdf_and_images_is_a_sandboxed_download_whatever_its_name(data, name):
    response = files.stored_file_response(_stored(data, name), filename=name)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert b"".join(response.streaming_content) == data


def test_a_pdf_is_inline_with_a_policy_that_allows_no_script():
    data = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    response = files.stored_file_response(_stored(data, "beleg.bin"), filename="beleg.bin")
    assert response["Content-Type"] == files.PDF and response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"] == "private, no-store"
    # No sandbox: Chromium builds before the out-of-process PDF viewer show nothing in a sandboxed document.
    assert response["Content-Security-Policy"] == files.CSP_PDF
    assert "script-src" not in files.CSP_PDF and "default-src 'none'" in files.CSP_PDF


def test_an_image_is_inline_and_sandboxed_and_a_download_when_asked_for():
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    inline = files.stored_file_response(_stored(data, "scan"), filename="scan.png")
    assert inline["Content-Type"] == files.PNG and inline["Content-Disposition"].startswith("inline;")
    assert "sandbox" in inline["Content-Security-Policy"]
    download = files.stored_file_response(_stored(data, "scan"), filename="scan.png", download=True)
    assert download["Content-Type"] == files.UNKNOWN and download["Content-Disposition"].startswith("attachment;")
