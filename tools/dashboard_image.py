"""docs/dashboard.png: the dashboard of a store (`recur serve` on it), a sample generated from its box in
headless Chromium, as a reader of the README sees it.

    python tools/dashboard_image.py HOME [OUT]      (tools/report-images.sh runs it on the demo's store)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def shoot(home: Path, out: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.server import Server, headless_chromium

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as profile, Server(home) as server:
        for flag in [*headless_chromium(Path(profile)), "--hide-scrollbars", "--window-size=1000,1500"]:
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        try:
            browser.get(server.url + "/")
            form = browser.find_element(By.CSS_SELECTOR, "form.gen")
            form.find_element(By.NAME, "prompt").send_keys("JULIET:")
            form.find_element(By.NAME, "seed").send_keys("7")
            form.find_element(By.TAG_NAME, "button").click()
            WebDriverWait(browser, 60).until(lambda b: form.get_attribute("data-done") == "yes")
            height = browser.execute_script("return document.body.scrollHeight")
            browser.set_window_size(1000, min(height + 40, 2600))
            browser.save_screenshot(str(out))
        finally:
            browser.quit()


if __name__ == "__main__":
    shoot(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "docs" / "dashboard.png"))
