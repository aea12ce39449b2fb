# Makes oriented6.jpg: a 60x40 picture as a phone stores it when held
# upright, with EXIF Orientation 6 ("rotate 90 degrees clockwise to show").
# Top left quarter red, top right green, bottom half blue, so that a
# rotation can be told from a flip. Run with python3-pil:
#   /usr/bin/python3 make_oriented.py
from PIL import Image

img = Image.new("RGB", (60, 40), (0, 0, 255))
img.paste((255, 0, 0), (0, 0, 30, 20))
img.paste((0, 255, 0), (30, 0, 60, 20))
exif = Image.Exif()
exif[0x0112] = 6  # Orientation
exif[0x010F] = "Treffpunkt test phone"  # Make: a tag before Orientation
img.save("oriented6.jpg", quality=95, exif=exif.tobytes())
