#!/usr/bin/python3
# browse.py - a real browser (Debian's headless Chromium, driven by chromedriver through
# python3-selenium) follows the on-call path on rbx serve: the dashboard, the incident's
# link to the runbook page for its node, the node's run, a live run; no console errors.
# Usage: browse.py BASE_URL LIVE_RUN_ID   (prints one "ok ..." line per check; exit 1 on failure)
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, live = sys.argv[1], sys.argv[2]
opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--user-data-dir=" + tempfile.mkdtemp(prefix="rbx-chrome.")):
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
failed = False


def check(title, cond):
    global failed
    print(("ok - " if cond else "not ok - ") + title)
    failed |= not cond


try:
    driver.get(base + "/")
    check("the dashboard loads", driver.find_element(By.TAG_NAME, "h1").text == "rbx")
    link = driver.find_element(By.CSS_SELECTOR, 'a[href="/runbooks/gpu-fault?node=n42"]')
    check("it lists the incident with its runbook link", link.text == "gpu-fault")
    link.click()
    check("the link opens the runbook page for the node",
          driver.find_element(By.TAG_NAME, "h2").text == "On n42")
    check("which shows the command to run",
          driver.find_element(By.ID, "command").text == "rbx run gpu-fault --node n42 --lab")
    check("and the plan rendered for the node", "on lab:n42" in driver.page_source)
    run = driver.find_element(By.CSS_SELECTOR, 'a[href^="/runs/"]')
    run.click()
    check("the node's run opens its journal",
          "SUCCEEDED" in driver.find_element(By.ID, "journal").text)
    driver.get(base + "/runs/" + live)
    check("a live run's page shows it going on", "still going" in driver.page_source)
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    check("no console errors (%s)" % errors, not errors)
finally:
    driver.quit()
sys.exit(1 if failed else 0)
