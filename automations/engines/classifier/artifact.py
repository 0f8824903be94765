"""The stored artifact: a joblib file holding one FieldModel per field, the text columns and the format
version. It loads only when its SHA-256 matches the one recorded on the classifier version and its
format version is the one this code understands (a model pickled by other code is refused, not guessed)."""
import hashlib
import io
import platform

import joblib

FORMAT_VERSION = 2
# Format 1 (single linear SVM per field) is still read: a FieldModel without ensemble members.
READABLE_FORMATS = (1, 2)


class ArtifactError(Exception):
    """The artifact cannot be used: missing, altered, or written for another format version."""


def library_versions() -> dict:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    import numpy
    import scipy
    import sklearn

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "joblib": joblib.__version__}


def dump(bundle: dict) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    joblib.dump({**bundle, "format_version": FORMAT_VERSION}, buffer, compress=3)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def load(data: bytes, *, sha256: str, format_version: int) -> dict:
    if format_version not in READABLE_FORMATS:
        raise ArtifactError(f"classifier artifact format {format_version} is not supported by this version "
                            f"of the portal (reads {', '.join(map(str, READABLE_FORMATS))}); train a new "
                            f"classifier version")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ArtifactError(f"classifier artifact was altered: SHA-256 {actual[:12]}… does not match the "
                            f"recorded {sha256[:12]}…; refusing to load it")
    bundle = joblib.load(io.BytesIO(data))
    if not isinstance(bundle, dict) or bundle.get("format_version") != format_version:
        raise ArtifactError("classifier artifact has an unexpected format version; refusing to load it")
    return bundle
