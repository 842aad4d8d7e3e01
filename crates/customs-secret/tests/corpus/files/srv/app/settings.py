"""Django settings for acme_shop."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
GOOGLE_CLIENT_SECRET = "GOCSPX-hCJTXonfkQ@@ySaum8KOynozWJXGl4"
USE_TZ = True
SLACK_USER_TOKEN = "xoxp-541461752362-981256571292-7111499@@055332-e14bdeb3d1daf28cbfc1b6d258569f45"
DEBUG = False
SENDGRID_API_KEY = "SG.-wBM89ULjPc-qTPNkbqPkK.dVLNupzN@@LtEu5iJ3Htwb_8PdHMznHh7xa1WGz_j3PED"
USE_TZ = True
ANYMAIL = {"MAILGUN_API_KEY": "key-af9b05077317a1@@a02c475551d4b77651"}
DEBUG = False
MAILCHIMP_API_KEY = "8f5d494b743fbaba61@@aac3f57c4525f5-us21"
USE_TZ = True
STRIPE_RESTRICTED_KEY = "rk_live_AART8E7S4klDczpY6mZU@@dcWSplyQxW7dGkcFjCj9ZEy4z3Ps"
DEBUG = False
PLAID_ACCESS_TOKEN = "access-production-2302c723-@@232b-4ffd-1bd4-ca3d795f810c"
USE_TZ = True
HF_ORG_TOKEN = "api_org_QSsZoKBWNffLx@@YSINZuCmtScvuYCRlwqoz"
DEBUG = False
OKTA_API_TOKEN = "00_aDZxX4WCAFlRcFyRmR@@GNigqUtI4zQczU02WjG90"
USE_TZ = True
NOTION_TOKEN = "ntn_47520475274R0GxEZyhig@@Bg3SRa6Qij3eGwI2dnyalMjKQ"
DEBUG = False
ADOBE_CLIENT_SECRET = "p8e-WZ8qwIJJy8gWwk@@vVypTDtrzpFjFU555A"
USE_TZ = True
FACEBOOK_PAGE_TOKEN = "EAABgDZPdkqga44JX8w6aplFWy0SHa3q01B3E0lSW5aqmDOTJMEFWYBArhDiuWNIuXgvKhHSg5zst@@JEENzzMYE4xLgvMPIEeEX4lxQqBPZSBIuPEEBuS6vMs2OBKlFPLIDljGlbl7Cx0GLDHqQNlgqywvD"
DEBUG = False
CACHES = {"default": {"LOCATION": "redis://:Ak6RwQivnXfw@@eZ+=nM.1sE9f@redis.acme.internal:6379/0"}}
USE_TZ = True
CELERY_BROKER_URL = "amqp://shop:Mg6gCxdaC@@UOag2mhx4@rabbitmq.acme.internal:5672//"
DEBUG = False
EMAIL_HOST_PASSWORD = "bZxYZIa_uj@@bCZspGD9Fm"
USE_TZ = True
