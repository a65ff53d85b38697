"""Demo data: regions, ~20 stores with Chinese names, the four demo accounts (idempotent)."""

from sqlalchemy import select

from supervision.accounts.models import User
from supervision.db import db
from supervision.stores.models import Region, Store

REGIONS = [
    ("EAST", "华东区", "East"),
    ("SOUTH", "华南区", "South"),
    ("NORTH", "华北区", "North"),
]

# (code, name, English name, region, address, lat, lon)
STORES = [
    ("SH001", "上海南京东路营业厅", "Shanghai Nanjing Rd E.", "EAST", "上海市黄浦区南京东路300号", 31.2387, 121.4810),
    ("SH002", "上海徐家汇营业厅", "Shanghai Xujiahui", "EAST", "上海市徐汇区漕溪北路88号", 31.1955, 121.4365),
    ("SH003", "上海陆家嘴营业厅", "Shanghai Lujiazui", "EAST", "上海市浦东新区陆家嘴环路1000号", 31.2397, 121.4998),
    ("HZ001", "杭州武林广场营业厅", "Hangzhou Wulin Square", "EAST", "杭州市拱墅区武林广场21号", 30.2741, 120.1652),
    ("HZ002", "杭州西溪营业厅", "Hangzhou Xixi", "EAST", "杭州市西湖区文二西路551号", 30.2796, 120.0870),
    ("NJ001", "南京新街口营业厅", "Nanjing Xinjiekou", "EAST", "南京市秦淮区中山南路1号", 32.0412, 118.7843),
    ("SZ001", "苏州观前街营业厅", "Suzhou Guanqian St.", "EAST", "苏州市姑苏区观前街158号", 31.3102, 120.6262),
    ("GZ001", "广州天河城营业厅", "Guangzhou Tianhe City", "SOUTH", "广州市天河区天河路208号", 23.1322, 113.3241),
    ("GZ002", "广州北京路营业厅", "Guangzhou Beijing Rd", "SOUTH", "广州市越秀区北京路238号", 23.1257, 113.2691),
    ("SZ101", "深圳华强北营业厅", "Shenzhen Huaqiangbei", "SOUTH", "深圳市福田区华强北路1019号", 22.5431, 114.0866),
    ("SZ102", "深圳南山科技园营业厅", "Shenzhen Nanshan Tech Park", "SOUTH", "深圳市南山区科苑路15号", 22.5405, 113.9530),
    ("FS001", "佛山祖庙营业厅", "Foshan Zumiao", "SOUTH", "佛山市禅城区祖庙路33号", 23.0305, 113.1145),
    ("DG001", "东莞南城营业厅", "Dongguan Nancheng", "SOUTH", "东莞市南城区鸿福路106号", 23.0205, 113.7518),
    ("BJ001", "北京王府井营业厅", "Beijing Wangfujing", "NORTH", "北京市东城区王府井大街138号", 39.9139, 116.4102),
    ("BJ002", "北京中关村营业厅", "Beijing Zhongguancun", "NORTH", "北京市海淀区中关村大街27号", 39.9836, 116.3155),
    ("BJ003", "北京国贸营业厅", "Beijing Guomao", "NORTH", "北京市朝阳区建国门外大街1号", 39.9087, 116.4605),
    ("TJ001", "天津滨江道营业厅", "Tianjin Binjiang Rd", "NORTH", "天津市和平区滨江道208号", 39.1215, 117.2010),
    ("SJZ01", "石家庄中山路营业厅", "Shijiazhuang Zhongshan Rd", "NORTH", "石家庄市长安区中山东路39号", 38.0428, 114.5149),
    ("TY001", "太原柳巷营业厅", "Taiyuan Liuxiang", "NORTH", "太原市迎泽区柳巷南路9号", 37.8676, 112.5650),
    ("JN001", "济南泉城路营业厅", "Jinan Quancheng Rd", "NORTH", "济南市历下区泉城路180号", 36.6652, 117.0236),
]

MANAGERS = ["王丽", "李强", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄婷", "周杰", "吴芳"]

# (email, name, role, region codes)
DEMO_USERS = [
    ("admin@example.com", "系统管理员", "admin", []),
    ("manager@example.com", "周经理", "manager", ["EAST", "SOUTH"]),
    ("supervisor@example.com", "陈督导", "supervisor", ["EAST"]),
    ("shopper@example.com", "林暗访", "shopper", ["EAST"]),
]


def seed(password: str) -> str:
    regions = _seed_regions()
    stores = _seed_stores(regions)
    users = _seed_users(regions, password)
    visits = _seed_visits(stores, users)
    return (
        f"demo data: {len(regions)} regions, {len(stores)} stores, {len(users)} accounts, "
        f"{visits} visits"
    )


def _get_or_add(model, lookup: dict, **values):
    found = db.session.scalars(select(model).filter_by(**lookup)).first()
    if found is None:
        found = model(**lookup, **values)
        db.session.add(found)
    return found


def _seed_regions() -> dict[str, Region]:
    return {
        code: _get_or_add(Region, {"code": code}, name=name, name_en=name_en)
        for code, name, name_en in REGIONS
    }


def _seed_stores(regions: dict[str, Region]) -> list[Store]:
    stores = []
    for index, (code, name, name_en, region, address, lat, lon) in enumerate(STORES):
        stores.append(_get_or_add(
            Store, {"code": code}, name=name, name_en=name_en, region=regions[region],
            address=address, lat=lat, lon=lon, manager_name=MANAGERS[index % len(MANAGERS)],
        ))
    db.session.flush()
    return stores


def _seed_users(regions: dict[str, Region], password: str) -> dict[str, User]:
    users = {}
    for email, name, role, codes in DEMO_USERS:
        user = _get_or_add(User, {"email": email}, name=name, role=role,
                           regions=[regions[c] for c in codes])
        if user.id is None:  # a seed again leaves passwords, and so sessions and tokens, alone
            user.set_password(password)
        users[role] = user
    db.session.flush()
    return users


def _seed_visits(stores: list[Store], users: dict[str, User]) -> int:
    from supervision.visits.seed import seed_visits

    return seed_visits({store.code: store for store in stores}, users)
