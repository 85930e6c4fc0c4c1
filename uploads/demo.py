"""Demo data of the uploads app: one generated image, public, owned by the demo admin."""

import io

from PIL import Image, ImageDraw

from uploads.handlers import received_file
from uploads.services import file_upload


def _banner() -> bytes:
    image = Image.new("RGB", (960, 540), (24, 64, 120))
    draw = ImageDraw.Draw(image)
    for i in range(0, 960, 40):
        draw.line([(i, 0), (i + 300, 540)], fill=(40, 110, 180), width=8)
    draw.rectangle([(80, 200), (880, 340)], fill=(250, 250, 250))
    draw.text((110, 255), "Demo Workspace", fill=(24, 64, 120))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seed(*, tenant, owner) -> str:
    uploaded = received_file(_banner(), name="demo-banner.png", content_type="image/png")
    try:
        file, created = file_upload(owner=owner, uploaded=uploaded, tags=["demo"])
    finally:
        uploaded.close()
    return f"{'created' if created else 'kept'} {file.original_name} ({file.status})"
