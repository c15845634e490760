"""The production storage of static files: WhiteNoise's, with hashed names and compressed copies.

Brotli's best quality (11, WhiteNoise's choice) takes about 40 s of CPU on Pyodide's 9.6 MB pyodide.asm.wasm, and
collectstatic compresses it twice (the plain name and the hashed one) whenever a static file changed.
Quality 9 takes 3 s for a file 13% larger (3.1 MB, gzip's is 3.5 MB); files up to 1 MB keep quality 11.
"""

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

LARGE_FILE = 1 << 20  # bytes
LARGE_FILE_BROTLI_QUALITY = 9


class FasterCompressor(Compressor):
    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        import brotli  # only where WhiteNoise found it (use_brotli)

        return brotli.compress(data, quality=LARGE_FILE_BROTLI_QUALITY if len(data) > LARGE_FILE else 11)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs) -> Compressor:
        return FasterCompressor(**kwargs)
