"""Drive the dashboard in headless Chromium as a user would.

Usage: dashboard.py <sluice url> <api key> <artefact dir>

Signs in (after a refused wrong key), searches logs with filters and pages
through them, checks that hostile log lines render as inert text, watches
a newly ingested event arrive in the live tail (and a non-matching one
not), acknowledges, assigns and resolves an incident, and opens the charts
and pipeline views. A screenshot of every step goes to the artefact dir.
Prints one JSON line of what it saw for the Rust test to check.
"""

import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, KEY, ARTEFACTS = sys.argv[1], sys.argv[2], sys.argv[3]
WAIT = 30


def post_logs(lines):
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    request = urllib.request.Request(
        URL + "/v1/logs",
        data=body,
        method="POST",
        headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202, response.status


def main():
    os.makedirs(ARTEFACTS, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    step = [0]

    def shot(name):
        step[0] += 1
        driver.save_screenshot(os.path.join(ARTEFACTS, f"{step[0]:02d}-{name}.png"))

    # Rows are replaced when an incident changes: a stale one is retried.
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException])
    by_id = lambda i: driver.find_element(By.ID, i)
    seen = {}
    try:
        driver.get(URL + "/")
        wait.until(EC.visibility_of_element_located((By.ID, "api-key")))
        shot("sign-in")

        # A wrong key is refused and the app stays hidden.
        by_id("api-key").send_keys("slk_wrong_key")
        by_id("sign-in-button").click()
        wait.until(lambda d: by_id("sign-in-error").text != "")
        seen["wrong_key_error"] = by_id("sign-in-error").text
        assert not by_id("app").is_displayed()
        shot("wrong-key")
        # The refused sign-in logged its 401; every later error is a failure.
        driver.get_log("browser")

        by_id("api-key").clear()
        by_id("api-key").send_keys(KEY)
        by_id("sign-in-button").click()
        wait.until(EC.visibility_of_element_located((By.ID, "app")))
        seen["tenant"] = by_id("tenant").text
        # The key is kept for the tab only, and nowhere in the URL.
        seen["key_in_session_storage"] = driver.execute_script("return sessionStorage.getItem('sluice.key')") == KEY
        seen["key_in_local_storage"] = driver.execute_script("return localStorage.length") > 0
        shot("signed-in")

        # Search: service filter, then the next page.
        by_id("search-service").send_keys("checkout")
        Select(by_id("search-level")).select_by_visible_text("info")
        by_id("search-button").click()
        rows = lambda: driver.find_elements(By.CSS_SELECTOR, "#search-results tr")
        wait.until(lambda d: len(rows()) == 100)
        services = {r.find_elements(By.TAG_NAME, "td")[2].text for r in rows()}
        seen["first_page_services"] = sorted(services)
        assert by_id("search-more").is_displayed()
        shot("search-first-page")
        by_id("search-more").click()
        wait.until(lambda d: len(rows()) > 100)
        seen["search_total"] = len(rows())
        seen["more_after_last_page"] = by_id("search-more").is_displayed()
        shot("search-second-page")

        # Text search for the hostile lines: shown as text, never run.
        by_id("search-service").clear()
        Select(by_id("search-level")).select_by_visible_text("any level")
        by_id("search-q").send_keys("pwned")
        by_id("search-button").click()
        wait.until(lambda d: len(rows()) == 2)
        seen["hostile_messages"] = sorted(
            r.find_elements(By.TAG_NAME, "td")[3].text for r in rows()
        )
        seen["hostile_elements"] = len(driver.find_elements(By.CSS_SELECTOR, "#search-results img, #search-results script, #search-results b"))
        seen["pwned"] = driver.execute_script("return window.__pwned === undefined ? null : window.__pwned")
        shot("search-hostile")

        # Live tail with a filter: the matching new event arrives, the other not.
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab=tail]").click()
        by_id("tail-service").send_keys("tail-svc")
        by_id("tail-q").send_keys("arrived")
        by_id("tail-start").click()
        wait.until(lambda d: by_id("tail-status").text == "live")
        marker = f"tail event arrived {time.time_ns()}"
        post_logs([
            {"service": "other-svc", "level": "info", "message": "arrived elsewhere"},
            {"service": "tail-svc", "level": "info", "message": "filtered out"},
            {"service": "tail-svc", "level": "warn", "message": marker},
        ])
        tail_rows = lambda: driver.find_elements(By.CSS_SELECTOR, "#tail-events tr")
        wait.until(lambda d: any(marker in r.text for r in tail_rows()))
        time.sleep(0.5)
        seen["tail_messages"] = [r.find_elements(By.TAG_NAME, "td")[-1].text for r in tail_rows()]
        shot("live-tail")
        by_id("tail-stop").click()
        wait.until(lambda d: by_id("tail-status").text == "stopped")

        # Incidents: acknowledge, assign, resolve.
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab=incidents]").click()
        incident_row = lambda: driver.find_element(By.CSS_SELECTOR, "#incidents tr.incident")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#incidents tr.incident")) > 0)
        seen["incident_id"] = incident_row().get_attribute("data-id")
        seen["incident_status_before"] = incident_row().find_element(By.CSS_SELECTOR, "td.status").text
        shot("incidents")
        incident_row().find_element(By.CSS_SELECTOR, "button.action-acknowledge").click()
        wait.until(lambda d: incident_row().find_element(By.CSS_SELECTOR, "td.status").text == "acknowledged")
        field = incident_row().find_element(By.CSS_SELECTOR, "input.assignee-input")
        field.clear()
        field.send_keys("alice")
        incident_row().find_element(By.CSS_SELECTOR, "button.action-assign").click()
        wait.until(lambda d: incident_row().find_element(By.CSS_SELECTOR, "td.assignee").text == "alice")
        incident_row().find_element(By.CSS_SELECTOR, "button.action-resolve").click()
        wait.until(lambda d: incident_row().find_element(By.CSS_SELECTOR, "td.status").text == "resolved")
        seen["incident_status_after"] = incident_row().find_element(By.CSS_SELECTOR, "td.status").text
        shot("incident-resolved")

        # Charts: bars for volume and error rate, one row per service.
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab=charts]").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#chart-services text")) > 0)
        seen["chart_bars"] = len(driver.find_elements(By.CSS_SELECTOR, "#chart-volume rect"))
        seen["chart_services"] = sorted(
            t.text for t in driver.find_elements(By.CSS_SELECTOR, "#chart-services text[text-anchor=end]")
        )
        seen["service_lines"] = sorted(
            t.get_attribute("textContent")
            for t in driver.find_elements(By.CSS_SELECTOR, "#chart-service-volume polyline.series title")
        )
        seen["service_error_lines"] = len(
            driver.find_elements(By.CSS_SELECTOR, "#chart-service-errors polyline.series")
        )
        seen["charts_summary"] = by_id("charts-summary").text
        shot("charts")

        # Pipelines and dead letters.
        driver.find_element(By.CSS_SELECTOR, "nav button[data-tab=pipelines]").click()
        wait.until(lambda d: by_id("dead-letter-count").text != "–")
        seen["dead_letters"] = by_id("dead-letter-count").text
        seen["pipeline"] = by_id("pipeline-serving").text
        seen["steps"] = len(driver.find_elements(By.CSS_SELECTOR, "#pipeline-steps tr"))
        shot("pipelines")

        # The key never went into a URL the page requested or showed.
        urls = driver.execute_script("return performance.getEntries().map((e) => e.name)")
        seen["key_in_urls"] = any(KEY in url for url in urls + [driver.current_url])
        seen["page_errors"] = [
            entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"
        ]
    except Exception:
        shot("failure")
        print(json.dumps(seen), file=sys.stderr)
        raise
    finally:
        driver.quit()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
