// 题目：价格格式化、手机号校验与购物车对象
// 请在下面三处“在此编写代码”的位置完成代码，不要修改函数名、参数和文件末尾的导出语句。

/**
 * 把金额格式化为“¥”开头、带千分位、保留两位小数的字符串。
 * @param {number} value 金额
 * @returns {string} 例如 formatPrice(1234.5) 返回 "¥1,234.50"；不合法时返回 "--"
 */
function formatPrice(value) {
  // 在此编写代码
}

/**
 * 判断是否为合法的中国大陆手机号。
 * @param {string} value 待检查的值
 * @returns {boolean}
 */
function isValidPhone(value) {
  // 在此编写代码
}

/**
 * 购物车构造函数：请在构造函数中初始化商品数组，
 * 并在 Cart.prototype 上定义 add、total、list 三个方法。
 */
function Cart() {
  // 在此编写代码
}


// ---- 以下内容不要修改：供 test.js 在 Node.js 中加载 ----
if (typeof module !== 'undefined' && module.exports) {
  module.exports = { formatPrice: formatPrice, isValidPhone: isValidPhone, Cart: Cart };
}
