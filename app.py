"""The Chalice app: wiring only. The whole HTTP surface is the blueprints below."""

from chalice.app import Chalice, Cron

from chalicelib import jobs, logs
from chalicelib.api.admin import admin
from chalicelib.api.marketing import marketing
from chalicelib.api.me import me
from chalicelib.api.middleware import access_log
from chalicelib.api.ops import ops
from chalicelib.api.places import places_bp
from chalicelib.api.pos import pos
from chalicelib.api.system import system
from chalicelib.domain.clock import system_clock

logs.configure()

app = Chalice(app_name="loyalty")
app.register_middleware(access_log, "http")

app.register_blueprint(system, url_prefix="/v1")
app.register_blueprint(me, url_prefix="/v1/me")
app.register_blueprint(pos, url_prefix="/v1")
app.register_blueprint(places_bp, url_prefix="/v1")
app.register_blueprint(admin, url_prefix="/v1")
app.register_blueprint(marketing, url_prefix="/v1")
app.register_blueprint(ops, url_prefix="/v1")


@app.schedule(Cron(jobs.DAILY_AT_UTC["expire_points"][1], jobs.DAILY_AT_UTC["expire_points"][0], "*", "*", "?", "*"))
def expire_points_daily(event: object) -> None:
    jobs.run("expire_points", system_clock())
